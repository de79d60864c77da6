//! The real Gemma 4 tokenizer (llama.cpp's vocab-only `ggml-vocab-gemma-4.gguf`, see
//! `scripts/fetch-gemma4-vocab`): llama.cpp's own test vectors, and gem's rendered prompts
//! tokenizing with every control tag as one token at its released id.
//!
//! The vocabulary loads on gem's own llama.cpp backend (`shared_backend`): the backend can be
//! initialised only once per process, and the engine tests in this binary use it too.

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::token::LlamaToken;

use gem::gemma::{Conversation, ModelPart, RenderOptions, ToolCall, ToolResponse};

/// Gemma 4's control tags and their ids in the released vocabulary.
const CONTROL_TOKENS: &[(&str, i32)] = &[
    ("<bos>", 2),
    ("<|turn>", 105),
    ("<turn|>", 106),
    ("<|think|>", 98),
    ("<|tool>", 46),
    ("<tool|>", 47),
    ("<|tool_call>", 48),
    ("<tool_call|>", 49),
    ("<|tool_response>", 50),
    ("<tool_response|>", 51),
    ("<|\"|>", 52),
    ("<|channel>", 100),
    ("<channel|>", 101),
];

const VOCAB: &str = "ggml-vocab-gemma-4.gguf";

fn vocab_file() -> Option<PathBuf> {
    support::cached_file("GEM_GEMMA4_VOCAB", VOCAB)
}

/// The vocabulary, loaded once.
fn vocab(path: &Path) -> &'static LlamaModel {
    static MODEL: OnceLock<LlamaModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let backend = gem::engine::llama::shared_backend().unwrap();
        let params = LlamaModelParams::default().with_vocab_only(true);
        LlamaModel::load_from_file(backend, path, &params).unwrap()
    })
}

fn ids(tokens: &[LlamaToken]) -> Vec<i32> {
    tokens.iter().map(|t| t.0).collect()
}

/// llama.cpp's `test-tokenizer-0` vectors: inputs separated by `\n__ggml_vocab_test__\n`, one
/// line of expected ids per input, tokenized without BOS and without parsing special tokens.
#[test]
fn llama_cpp_test_vectors_tokenize_to_the_expected_ids() {
    let _lock = support::model_lock();
    let Some(path) = vocab_file() else { return };
    let inp = path.with_file_name(format!("{VOCAB}.inp"));
    let out = path.with_file_name(format!("{VOCAB}.out"));
    let (Ok(inputs), Ok(expected)) = (std::fs::read_to_string(&inp), std::fs::read_to_string(&out))
    else {
        panic!(
            "{} or {} is missing next to the vocabulary",
            inp.display(),
            out.display()
        );
    };
    let inputs: Vec<&str> = inputs.split("\n__ggml_vocab_test__\n").collect();
    let expected: Vec<Vec<i32>> = expected
        .lines()
        .map(|line| {
            line.split_whitespace()
                .map(|id| id.parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(inputs.len(), expected.len(), "one line of ids per input");
    assert!(inputs.len() >= 40, "{} cases", inputs.len());

    let model = vocab(&path);
    let vocab = model.vocab();
    assert_eq!(model.n_vocab(), 262_144);
    let mut failures = Vec::new();
    for (input, want) in inputs.iter().zip(&expected) {
        let got = ids(&vocab.tokenize(input.as_bytes(), false, false));
        if &got != want {
            failures.push(format!("{input:?}\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
}

/// A conversation that uses every control tag: thinking, tools, a call with string arguments,
/// its result, an answer and a follow-up question.
fn sample_prompt() -> String {
    let tools = gem::agent::tool_declarations(&gem::tools::Registry::builtin());
    let mut conv = Conversation::new(Some(gem::agent::system_prompt::BASE.to_string()));
    conv.push_user("Why does `add` return the wrong sum? Äpfel, 🦙 and\ttabs.");
    conv.extend_model([
        ModelPart::Thinking("Read lib.rs first.".into()),
        ModelPart::ToolCall(ToolCall {
            name: "read_file".into(),
            arguments: serde_json::json!({"path": "lib.rs", "offset": 1}),
        }),
        ModelPart::ToolResponse(ToolResponse {
            name: "read_file".into(),
            response: serde_json::json!("fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n"),
        }),
        ModelPart::Text("It subtracts: `a - b` should be `a + b`.".into()),
    ]);
    conv.push_user("Fix it.");
    let opts = RenderOptions {
        thinking: true,
        tools,
        ..RenderOptions::default()
    };
    gem::gemma::render(&conv, &opts).unwrap()
}

#[test]
fn rendered_prompts_tokenize_with_each_control_tag_as_its_real_token() {
    let _lock = support::model_lock();
    let Some(path) = vocab_file() else { return };
    let vocab = vocab(&path).vocab();
    let prompt = sample_prompt();
    // As the engine tokenizes: control tags parsed, no BOS added (the prompt starts with one).
    let tokens = vocab.tokenize(prompt.as_bytes(), false, true);
    let token_ids = ids(&tokens);
    assert_eq!(token_ids[0], 2, "the prompt starts with <bos>");
    assert_ne!(token_ids[1], 2, "and has only one");
    for &(tag, id) in CONTROL_TOKENS {
        let in_text = prompt.matches(tag).count();
        let as_token = token_ids.iter().filter(|&&t| t == id).count();
        assert!(in_text > 0, "the sample prompt uses {tag}");
        assert_eq!(
            as_token, in_text,
            "{tag}: {in_text} in the text, {as_token} tokens {id}"
        );
        let piece = vocab.token_to_piece(LlamaToken(id), true, None);
        assert_eq!(
            String::from_utf8_lossy(&piece),
            tag,
            "token {id} prints as {tag}"
        );
        assert_eq!(
            ids(&vocab.tokenize(tag.as_bytes(), false, true)),
            [id],
            "{tag} alone"
        );
    }
    // Every special token in the prompt is one of the tags above.
    let known: Vec<i32> = CONTROL_TOKENS.iter().map(|&(_, id)| id).collect();
    for &id in &token_ids {
        let piece =
            String::from_utf8_lossy(&vocab.token_to_piece(LlamaToken(id), true, None)).into_owned();
        let plain = String::from_utf8_lossy(&vocab.token_to_piece(LlamaToken(id), false, None))
            .into_owned();
        if piece != plain {
            assert!(
                known.contains(&id),
                "unexpected special token {id} {piece:?}"
            );
        }
    }
    // And it detokenizes back to the same text, piece by piece as the engine streams output.
    let mut bytes = Vec::new();
    for &token in &tokens {
        bytes.extend(vocab.token_to_piece(token, true, None));
    }
    assert_eq!(String::from_utf8(bytes).unwrap(), prompt);
    // llama.cpp's whole-sequence detokenizer also gives it back, except that this vocabulary
    // asks it to clean up spaces before punctuation (`inside .git/` becomes `inside.git/`);
    // gem streams pieces and never uses it.
    let whole = String::from_utf8(vocab.detokenize(&tokens, false, true)).unwrap();
    assert_eq!(whole, prompt.replace(" .", "."));
    eprintln!(
        "sample prompt: {} bytes, {} tokens",
        prompt.len(),
        token_ids.len()
    );
}

#!/usr/bin/env python3
"""Write a tiny, random-weight `gemma4` GGUF for tests.

The file runs through llama.cpp's real Gemma 4 graph (per-layer embeddings,
interleaved sliding/full attention with different head sizes, proportional
RoPE, Q/K/V norms, logit softcap, optional KV sharing) and keeps Gemma 4's
control tokens at their real ids, but is only a few MB and its text is noise.
The same arguments always give a byte-identical file.

Requirements (pinned; Python 3.11):
    python3 -m pip install gguf==0.19.0 numpy==2.4.6

Usage:
    tiny_gemma4.py --vocab ggml-vocab-gemma-4.gguf --out tiny.gguf
        [--variant default|kv-shared|no-ple|with-template]
        [--template chat_template.jinja] [--seed N]

`--vocab` is llama.cpp's vocab-only `ggml-vocab-gemma-4.gguf` (see
scripts/fetch-gemma4-vocab); ids 0-493 (special tokens, newline and space
runs, HTML tags, byte tokens) are copied text-and-type from it. The rest of
the vocabulary is a few hundred ordinary SentencePiece pieces built here.
`--template` is required by (and only used by) the `with-template` variant.
Facts behind the layout: shared/design/tiny-gemma4.md.
"""

from __future__ import annotations

import argparse
import math
import os
import struct
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import gguf

DEFAULT_SEED = 20260401

# Ids [0, REAL_VOCAB_PREFIX) come from the real Gemma 4 vocabulary; the last
# of them is the byte token <0xFF> (id 493).
REAL_VOCAB_PREFIX = 494

# SentencePiece piece for a space.
SPACE = "\u2581"


@dataclass(frozen=True)
class Shape:
    """Hyper-parameters of one tiny model."""

    name: str
    pattern: str  # one letter per layer: S = sliding window, F = full attention
    shared_kv_layers: int = 0
    n_embd: int = 128
    n_head: int = 4
    n_head_kv_swa: int = 2
    n_head_kv_full: int = 1
    head_dim_swa: int = 32
    head_dim_full: int = 64
    n_ff: int = 256
    n_embd_per_layer: int = 32  # 0 turns per-layer embeddings off
    sliding_window: int = 32
    context_length: int = 8192
    final_logit_softcap: float = 30.0
    rope_freq_base: float = 1_000_000.0
    rope_freq_base_swa: float = 10_000.0
    rms_eps: float = 1e-6
    with_template: bool = False


BASE = Shape(name="tiny-gemma4-random", pattern="SSSSSF")

VARIANTS: dict[str, Shape] = {
    "default": BASE,
    # E2B-like: the last 5 layers reuse the KV cache of layers 3 (S) and 4 (F).
    "kv-shared": replace(BASE, name="tiny-gemma4-random-kv-shared",
                         pattern="SSSSFSSSSF", shared_kv_layers=5),
    "no-ple": replace(BASE, name="tiny-gemma4-random-no-ple", n_embd_per_layer=0),
    "with-template": replace(BASE, name="tiny-gemma4-random-with-template",
                             with_template=True),
}

# Ordinary vocabulary: words common in English prose, code and tool calls.
# Each word enters as "▁word" and "word" together with all their prefixes,
# so llama.cpp's SentencePiece merge loop can always build the whole word.
WORDS = """
the to of and is in it you that for on with as be this are not have
hello world model user system tool call response name arguments true false
null think thought json function get weather city value result error ok
yes no answer quick brown fox jumps over lazy dog file path line read write
edit run bash command test build cargo git diff search find grep list string
number object array type return if else let fn pub use mod struct impl def
import from class self print main src new add fix done
""".split()

# Pieces without a space form: punctuation runs frequent in code and JSON.
SYMBOL_PIECES = """
() {} [] (); {}, ], ": ", ":" ":{ }} ]] :: -> => == != <= >= && || // /* */
## ### ``` ** __ ... .. ., ,\n .\n :\n {\n }\n
""".split()


def fail(message: str) -> None:
    """Print an error and exit with status 1."""
    print(f"tiny_gemma4.py: error: {message}", file=sys.stderr)
    sys.exit(1)


class _Cursor:
    """Sequential little-endian reader over a GGUF file's bytes."""

    _SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f",
               7: "?", 10: "Q", 11: "q", 12: "d"}

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str):
        value = struct.unpack_from("<" + fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> bytes:
        n = self.take("Q")
        value = self.data[self.pos:self.pos + n]
        self.pos += n
        return value

    def skip_string(self) -> None:
        self.pos += 8 + struct.unpack_from("<Q", self.data, self.pos)[0]

    def array(self, keep: int) -> list:
        """Read an array, returning its first `keep` items and skipping the rest."""
        item_type = self.take("I")
        n = self.take("Q")
        if item_type == gguf.GGUFValueType.STRING:
            items = [self.string() for _ in range(min(n, keep))]
            for _ in range(n - len(items)):
                self.skip_string()
            return items
        fmt = self._SCALAR.get(item_type)
        if fmt is None:
            raise ValueError(f"unsupported array item type {item_type}")
        size = struct.calcsize(fmt)
        count = min(n, keep)
        items = list(struct.unpack_from(f"<{count}{fmt}", self.data, self.pos))
        self.pos += n * size
        return items

    def skip_value(self, value_type: int) -> None:
        if value_type == gguf.GGUFValueType.STRING:
            self.skip_string()
        elif value_type == gguf.GGUFValueType.ARRAY:
            self.array(keep=0)
        else:
            self.pos += struct.calcsize(self._SCALAR[value_type])


def read_real_vocab_prefix(path: Path, count: int) -> tuple[list[str], list[int]]:
    """Return text and type of the first `count` tokens of a GGUF vocabulary.

    gguf.GGUFReader would do, but it builds a record for each of the file's
    ~780k strings (262k tokens, 515k merges) and takes about 40 s here; this
    walks the metadata once, keeps what it needs and stops (well under 1 s).
    The layout is the GGUF v2/v3 one that gguf's reader and writer implement.
    """
    data = path.read_bytes()
    cur = _Cursor(data)
    if cur.take("I") != gguf.GGUF_MAGIC:
        raise ValueError("not a GGUF file (bad magic)")
    version = cur.take("I")
    if version not in (2, 3):
        raise ValueError(f"unsupported GGUF version {version}")
    cur.take("Q")  # tensor count
    kv_count = cur.take("Q")
    wanted = {gguf.Keys.Tokenizer.LIST: None, gguf.Keys.Tokenizer.TOKEN_TYPE: None}
    for _ in range(kv_count):
        key = cur.string().decode("utf-8")
        value_type = cur.take("I")
        if key in wanted:
            if value_type != gguf.GGUFValueType.ARRAY:
                raise ValueError(f"{key} is not an array")
            wanted[key] = cur.array(keep=count)
            if all(v is not None for v in wanted.values()):
                break
        else:
            cur.skip_value(value_type)
    tokens = wanted[gguf.Keys.Tokenizer.LIST]
    types = wanted[gguf.Keys.Tokenizer.TOKEN_TYPE]
    if tokens is None or types is None:
        raise ValueError("no tokenizer.ggml.tokens / token_type arrays")
    if len(tokens) < count or len(types) < count:
        raise ValueError(f"vocabulary has fewer than {count} tokens")
    return [t.decode("utf-8") for t in tokens], [int(t) for t in types]


def check_real_prefix(texts: list[str], types: list[int]) -> None:
    """Fail unless the vocabulary prefix looks like Gemma 4's."""
    expected = {0: "<pad>", 1: "<eos>", 2: "<bos>", 3: "<unk>", 46: "<|tool>",
                48: "<|tool_call>", 105: "<|turn>", 106: "<turn|>",
                107: "\n", 238: "<0x00>", 493: "<0xFF>"}
    for token_id, text in expected.items():
        if texts[token_id] != text:
            raise ValueError(f"token {token_id} is {texts[token_id]!r}, "
                             f"expected {text!r}: not the Gemma 4 vocabulary?")
    if types[1] != gguf.TokenType.CONTROL or types[238] != gguf.TokenType.BYTE:
        raise ValueError("unexpected token types: not the Gemma 4 vocabulary?")


def ordinary_pieces() -> list[str]:
    """The ordinary pieces, most frequent first, without duplicates."""
    pieces: list[str] = [SPACE, "\t"]
    pieces += [chr(c) for c in range(0x21, 0x7F)]
    for word in WORDS:
        for form in (SPACE + word, word):
            pieces += [form[:n] for n in range(2, len(form) + 1)]
    for piece in SYMBOL_PIECES:
        text = piece.replace("\\n", "\n")
        pieces += [text[:n] for n in range(2, len(text) + 1)]
    seen: set[str] = set()
    unique = []
    for piece in pieces:
        if piece not in seen:
            seen.add(piece)
            unique.append(piece)
    return unique


def build_vocab(real_texts: list[str], real_types: list[int]
                ) -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and types of the tiny SentencePiece vocabulary."""
    tokens = list(real_texts)
    types = list(real_types)
    scores = []
    for text, token_type in zip(real_texts, real_types):
        # Byte tokens and the newline/space runs (kept mergeable, as code
        # indentation needs them) score 0; special and unused tokens -1000.
        runs = token_type == gguf.TokenType.NORMAL and set(text) <= {"\n", SPACE}
        usable = token_type == gguf.TokenType.BYTE or runs
        scores.append(0.0 if usable else -1000.0)
    known = set(tokens)
    rank = 0
    for piece in ordinary_pieces():
        if piece in known:
            continue
        known.add(piece)
        tokens.append(piece)
        types.append(int(gguf.TokenType.NORMAL))
        # Zipf-like log-probability: the earlier a piece, the likelier.
        scores.append(-round(math.log(rank + 2), 4))
        rank += 1
    return tokens, scores, types


def check_no_special_merge(tokens: list[str], types: list[int]) -> None:
    """Fail if plain text could merge into a control or user-defined token."""
    index = set(tokens)
    special = (gguf.TokenType.CONTROL, gguf.TokenType.USER_DEFINED)
    for text, token_type in zip(tokens, types):
        if token_type not in special:
            continue
        for cut in range(1, len(text)):
            if text[:cut] in index and text[cut:] in index:
                raise ValueError(f"special token {text!r} is reachable by merging "
                                 f"{text[:cut]!r} + {text[cut:]!r}")


class Weights:
    """Deterministic random tensors, drawn in the order they are requested."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def matrix(self, rows: int, row_len: int, std: float) -> np.ndarray:
        """f16 [rows, row_len] (ggml [row_len, rows]), uniform with the given std."""
        bound = std * math.sqrt(3.0)
        return self.rng.uniform(-bound, bound, (rows, row_len)).astype(np.float16)

    def norm(self, n: int) -> np.ndarray:
        """f32 RMS-norm weights near 1.0 (llama.cpp uses them as stored, no +1)."""
        bound = 0.05 * math.sqrt(3.0)
        return (1.0 + self.rng.uniform(-bound, bound, n)).astype(np.float32)


LINEAR_STD = 0.1


def add_metadata(w: gguf.GGUFWriter, shape: Shape,
                 vocab: tuple[list[str], list[float], list[int]],
                 template: str | None) -> None:
    """Write the model and tokenizer key/values (order as in the reference file)."""
    arch = "gemma4"
    swa = [c == "S" for c in shape.pattern]
    head_count_kv = [shape.n_head_kv_swa if s else shape.n_head_kv_full for s in swa]
    tokens, scores, types = vocab

    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(shape.name)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_context_length(shape.context_length)
    w.add_embedding_length(shape.n_embd)
    w.add_block_count(len(shape.pattern))
    w.add_feed_forward_length(shape.n_ff)
    w.add_head_count(shape.n_head)
    w.add_key_value(gguf.Keys.Attention.HEAD_COUNT_KV.format(arch=arch), head_count_kv,
                    gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.UINT32)
    w.add_rope_freq_base(shape.rope_freq_base)
    w.add_key_length(shape.head_dim_full)
    w.add_value_length(shape.head_dim_full)
    w.add_rope_dimension_count(shape.head_dim_full)
    w.add_rope_dimension_count_swa(shape.head_dim_swa)
    w.add_sliding_window_pattern(swa)
    w.add_shared_kv_layers(shape.shared_kv_layers)
    w.add_rope_freq_base_swa(shape.rope_freq_base_swa)
    w.add_sliding_window(shape.sliding_window)
    w.add_layer_norm_rms_eps(shape.rms_eps)
    w.add_embedding_length_per_layer_input(shape.n_embd_per_layer)
    w.add_key_length_swa(shape.head_dim_swa)
    w.add_value_length_swa(shape.head_dim_swa)
    w.add_final_logit_softcapping(shape.final_logit_softcap)

    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(2)
    w.add_eos_token_id(1)
    w.add_unk_token_id(3)
    w.add_pad_token_id(0)
    w.add_mask_token_id(4)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(False)
    if template is not None:
        w.add_chat_template(template)


def add_tensors(w: gguf.GGUFWriter, shape: Shape, n_vocab: int, seed: int) -> None:
    """Write all tensors (numpy shape is ggml's reversed: [rows, row_len])."""
    rnd = Weights(seed)
    e, p = shape.n_embd, shape.n_embd_per_layer
    n_layer = len(shape.pattern)
    first_shared = n_layer - shape.shared_kv_layers

    w.add_tensor("token_embd.weight", rnd.matrix(n_vocab, e, 1.0 / math.sqrt(e)))
    if p > 0:
        w.add_tensor("per_layer_token_embd.weight",
                     rnd.matrix(n_vocab, p * n_layer, 1.0 / math.sqrt(p)))
        w.add_tensor("per_layer_model_proj.weight", rnd.matrix(p * n_layer, e, LINEAR_STD))
        w.add_tensor("per_layer_proj_norm.weight", rnd.norm(p))
    if "F" in shape.pattern:
        # Proportional RoPE: only the first quarter of the full-attention
        # head's dimension pairs rotate; 1e30 freezes the rest.
        pairs = shape.head_dim_full // 2
        freqs = np.full(pairs, 1e30, dtype=np.float32)
        freqs[: pairs // 4] = 1.0
        w.add_tensor("rope_freqs.weight", freqs)
    w.add_tensor("output_norm.weight", rnd.norm(e))

    for i, kind in enumerate(shape.pattern):
        hd = shape.head_dim_swa if kind == "S" else shape.head_dim_full
        n_kv = shape.n_head_kv_swa if kind == "S" else shape.n_head_kv_full
        has_kv = i < first_shared
        blk = f"blk.{i}."
        w.add_tensor(blk + "attn_norm.weight", rnd.norm(e))
        w.add_tensor(blk + "attn_q.weight", rnd.matrix(hd * shape.n_head, e, LINEAR_STD))
        if has_kv:
            w.add_tensor(blk + "attn_k.weight", rnd.matrix(hd * n_kv, e, LINEAR_STD))
            w.add_tensor(blk + "attn_v.weight", rnd.matrix(hd * n_kv, e, LINEAR_STD))
            w.add_tensor(blk + "attn_k_norm.weight", rnd.norm(hd))
        w.add_tensor(blk + "attn_q_norm.weight", rnd.norm(hd))
        w.add_tensor(blk + "attn_output.weight", rnd.matrix(e, hd * shape.n_head, LINEAR_STD))
        w.add_tensor(blk + "post_attention_norm.weight", rnd.norm(e))
        w.add_tensor(blk + "ffn_norm.weight", rnd.norm(e))
        w.add_tensor(blk + "ffn_gate.weight", rnd.matrix(shape.n_ff, e, LINEAR_STD))
        w.add_tensor(blk + "ffn_up.weight", rnd.matrix(shape.n_ff, e, LINEAR_STD))
        w.add_tensor(blk + "ffn_down.weight", rnd.matrix(e, shape.n_ff, LINEAR_STD))
        w.add_tensor(blk + "post_ffw_norm.weight", rnd.norm(e))
        if p > 0:
            w.add_tensor(blk + "inp_gate.weight", rnd.matrix(p, e, LINEAR_STD))
            w.add_tensor(blk + "proj.weight", rnd.matrix(e, p, LINEAR_STD))
            w.add_tensor(blk + "post_norm.weight", rnd.norm(e))
        w.add_tensor(blk + "layer_output_scale.weight", np.ones(1, dtype=np.float32))


def check_shape(shape: Shape) -> None:
    """Fail on layouts llama.cpp's gemma4 loader would reject."""
    if not shape.pattern or set(shape.pattern) - {"S", "F"} or "S" not in shape.pattern:
        raise ValueError(f"bad layer pattern {shape.pattern!r}")
    if shape.shared_kv_layers:
        first_shared = len(shape.pattern) - shape.shared_kv_layers
        if first_shared < 2 or shape.pattern[first_shared - 2:first_shared] != "SF":
            raise ValueError("the two layers before the shared-KV block must be S then F")


def write_model(out: Path, shape: Shape, vocab_path: Path, template: str | None,
                seed: int) -> None:
    """Build the model and write it to `out` atomically."""
    check_shape(shape)
    texts, types = read_real_vocab_prefix(vocab_path, REAL_VOCAB_PREFIX)
    check_real_prefix(texts, types)
    tokens, scores, token_types = build_vocab(texts, types)
    check_no_special_merge(tokens, token_types)

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        w = gguf.GGUFWriter(tmp, "gemma4")
        add_metadata(w, shape, (tokens, scores, token_types), template)
        add_tensors(w, shape, len(tokens), seed)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file(progress=False)
        w.close()
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Write a tiny random-weight gemma4 GGUF for tests.")
    parser.add_argument("--vocab", required=True, type=Path,
                        help="llama.cpp's ggml-vocab-gemma-4.gguf")
    parser.add_argument("--out", required=True, type=Path, help="output .gguf path")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="default")
    parser.add_argument("--template", type=Path,
                        help="chat template file (with-template variant only)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"random seed (default {DEFAULT_SEED})")
    args = parser.parse_args(argv)

    shape = VARIANTS[args.variant]
    template = None
    if shape.with_template:
        if args.template is None:
            fail("--variant with-template needs --template PATH")
        try:
            template = args.template.read_text(encoding="utf-8")
        except OSError as err:
            fail(f"cannot read template {args.template}: {err.strerror}")
        if not template.strip():
            fail(f"template {args.template} is empty")
    elif args.template is not None:
        fail(f"--template only applies to --variant with-template, not {args.variant}")
    if not args.vocab.is_file():
        fail(f"vocabulary file not found: {args.vocab} "
             "(scripts/fetch-gemma4-vocab downloads it)")
    if not args.out.parent.is_dir():
        fail(f"output directory does not exist: {args.out.parent}")
    try:
        write_model(args.out, shape, args.vocab, template, args.seed)
    except (ValueError, struct.error, UnicodeDecodeError) as err:
        fail(f"{args.vocab}: {err}")
    except OSError as err:
        fail(f"cannot write {args.out}: {err}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

//! Saving a conversation's KV state at the end of a session writes only what the KV cache
//! already holds (real 270M weights): after an interrupted prefill the save computes nothing
//! more, so quitting never waits for the rest of the prompt.

use crate::support;

use std::sync::atomic::Ordering;

use gem::engine::{Backend, EngineConfig, GenerateEvent, GenerateRequest, LlamaEngine};

#[test]
fn after_an_interrupted_prefill_only_the_computed_part_is_saved() {
    let _lock = support::model_lock();
    let Some(model) = support::real_model() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(&model);
    config.context = Some(8192);
    config.batch = 256;
    config.state_dir = Some(data.path().join("kv"));
    let engine = LlamaEngine::load(&config).unwrap();

    let prompt: String = (0..600)
        .map(|i| format!("Line {i} of a long conversation about parsing.\n"))
        .collect();
    let total = engine.count_tokens(&prompt).unwrap();
    assert!(
        total > 2_000,
        "the prompt spans several prefill chunks: {total}"
    );

    // The user interrupts after the first chunk.
    let request = GenerateRequest::new(prompt.clone(), 16);
    let cancel = request.cancel.clone();
    let mut computed = 0;
    engine
        .generate(request, &mut |event| {
            if let GenerateEvent::Prefill { done, .. } = event {
                computed = done;
                if done > 0 {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
        })
        .unwrap();
    // Cancellation is checked between chunks; a busy machine may let one more chunk through.
    assert!(
        computed >= 256 && computed % 256 == 0 && computed < total,
        "the prefill stopped after whole chunks, before the end: {computed} of {total}"
    );

    let kept = engine.save_checkpoint(&prompt, &[]).unwrap();
    assert_eq!(kept, computed, "exactly what the cache holds is kept");
    let states = gem::engine::state_cache::list(&data.path().join("kv"));
    assert_eq!(
        states.iter().map(|s| s.n_tokens).collect::<Vec<_>>(),
        [computed],
        "one state of the held prefix, nothing prefilled for the save"
    );

    // Saving again writes nothing new.
    assert_eq!(engine.save_checkpoint(&prompt, &[]).unwrap(), computed);
    assert_eq!(
        gem::engine::state_cache::list(&data.path().join("kv")).len(),
        1
    );
}

//! Recognising a model file that bundles its vision/audio encoder (Ollama's own format), which
//! llama.cpp cannot load.
//!
//! **The rule.** A model file (not itself a projector) is *bundled* when its header names
//! encoder tensors — tensors whose names begin with `v.` (vision tower), `a.` (audio tower) or
//! `mm.` (multimodal projector), the prefixes of llama.cpp's own `mmproj` files, which no text
//! architecture uses — or, when the names cannot be read, when it stores encoder settings
//! (`<arch>.vision.*` / `<arch>.audio.*` keys). Ollama's converter (`convert/convert_gemma4.go`)
//! writes exactly these into its gemma4 blobs. llama.cpp's text loader creates only the text
//! model's tensors and then checks that it used every tensor the file holds, so such a file
//! fails with "done_getting_tensors: wrong number of tensors; expected N, got M".
//!
//! Counting tensors against what `block_count` implies was considered and rejected: the
//! per-layer tensor count differs between the dense, MoE and shared-KV Gemma 4 layouts, so no
//! single expected count exists.

/// Name prefixes of vision/audio encoder tensors.
pub const ENCODER_PREFIXES: [&str; 3] = ["v.", "a.", "mm."];

/// How many of `names` are encoder tensors.
pub fn encoder_tensors<S: AsRef<str>>(names: &[S]) -> usize {
    names
        .iter()
        .filter(|n| ENCODER_PREFIXES.iter().any(|p| n.as_ref().starts_with(p)))
        .count()
}

/// Why llama.cpp cannot load a model file of `architecture` with `encoder_tensors` encoder
/// tensors (`None` when it has none). `encoder_tensors` is `None` when the names could not be
/// read; then `encoder_keys` (encoder settings in the metadata) decides.
pub fn refusal(
    architecture: &str,
    encoder_tensors: Option<usize>,
    encoder_keys: usize,
    tensor_count: u64,
) -> Option<String> {
    let what = match encoder_tensors {
        Some(0) => return None,
        Some(n) => format!("{n} of its {tensor_count} tensors are vision/audio encoder tensors"),
        None if encoder_keys > 0 => "it stores a vision/audio encoder's settings".to_string(),
        None => return None,
    };
    let whose = if architecture == "gemma4" {
        "Ollama's bundled gemma4 blob".to_string()
    } else {
        format!("this bundled {architecture} file")
    };
    Some(format!(
        "llama.cpp cannot load {whose}: tensor-count mismatch ({what}, bundled into the model \
         file; llama.cpp expects them in a separate mmproj file)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoder_tensors_are_counted_by_prefix() {
        let names = [
            "token_embd.weight",
            "blk.0.attn_q.weight",
            "per_layer_token_embd.weight",
            "v.blk.0.attn_q.weight",
            "v.patch_embd.weight",
            "a.blk.0.conv_dw.weight",
            "mm.input_projection.weight",
            "output_norm.weight",
        ];
        assert_eq!(encoder_tensors(&names), 4);
        assert_eq!(encoder_tensors(&names[..3]), 0);
    }

    #[test]
    fn a_bundled_gemma4_is_refused_with_the_reason() {
        let reason = refusal("gemma4", Some(240), 9, 658).unwrap();
        assert!(
            reason.starts_with(
                "llama.cpp cannot load Ollama's bundled gemma4 blob: tensor-count mismatch"
            ),
            "{reason}"
        );
        assert!(reason.contains("240 of its 658"), "{reason}");
    }

    #[test]
    fn a_text_only_file_is_not_refused() {
        assert_eq!(refusal("gemma4", Some(0), 0, 400), None);
        // The tensor names win over stray metadata.
        assert_eq!(refusal("gemma4", Some(0), 3, 400), None);
    }

    #[test]
    fn without_tensor_names_the_encoder_keys_decide() {
        assert!(
            refusal("gemma3", None, 4, 900)
                .unwrap()
                .contains("bundled gemma3 file")
        );
        assert_eq!(refusal("gemma3", None, 0, 900), None);
    }
}

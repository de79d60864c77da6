#!/usr/bin/env python3
"""Write a tiny, random-weight `gemma4` GGUF for tests.

The file runs through llama.cpp's real Gemma 4 graph (per-layer embeddings,
interleaved sliding/full attention with different head sizes, proportional
RoPE, Q/K/V norms, logit softcap, optional KV sharing) with Gemma 4's real
tokenizer (the 262,144-token BPE vocabulary, `tokenizer.ggml.model = gemma4`),
but its text is noise. The two vocabulary-sized tables (token and per-layer
embeddings) are stored as Q4_0 so a file stays near 35 MB. The same arguments
always give a byte-identical file.

Requirements (pinned; Python 3.11):
    python3 -m pip install gguf==0.19.0 numpy==2.4.6

Usage:
    tiny_gemma4.py --vocab ggml-vocab-gemma-4.gguf --out tiny.gguf
        [--variant default|kv-shared|no-ple|with-template]
        [--template chat_template.jinja] [--seed N]

`--vocab` is llama.cpp's vocab-only `ggml-vocab-gemma-4.gguf` (see
scripts/fetch-gemma4-vocab); its tokenizer (tokens, scores, types, merges,
special ids) is copied whole, its chat template never.
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

# Gemma 4's vocabulary size.
VOCAB_SIZE = 262_144

@dataclass(frozen=True)
class Shape:
    """Hyper-parameters of one tiny model."""

    name: str
    pattern: str  # one letter per layer: S = sliding window, F = full attention
    shared_kv_layers: int = 0
    n_embd: int = 64
    n_head: int = 4
    n_head_kv_swa: int = 2
    n_head_kv_full: int = 1
    head_dim_swa: int = 32
    head_dim_full: int = 64
    n_ff: int = 256
    n_embd_per_layer: int = 16  # 0 turns per-layer embeddings off; P x layers: a multiple of 32
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


@dataclass(frozen=True)
class Tokenizer:
    """The tokenizer key/values of the real Gemma 4 vocabulary."""

    tokens: list[str]
    scores: list[float]
    types: list[int]
    merges: list[str]


TOKENIZER_ARRAYS = {
    gguf.Keys.Tokenizer.LIST: "tokens",
    gguf.Keys.Tokenizer.SCORES: "scores",
    gguf.Keys.Tokenizer.TOKEN_TYPE: "types",
    gguf.Keys.Tokenizer.MERGES: "merges",
}


def read_tokenizer(path: Path) -> Tokenizer:
    """Read the tokenizer arrays of a GGUF vocabulary.

    gguf.GGUFReader would do, but it builds a record for each of the file's
    ~780k strings (262k tokens, 515k merges) and takes about 40 s here; this
    walks the metadata once and keeps the four arrays (a few seconds).
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
    found: dict[str, list] = {}
    model = None
    for _ in range(kv_count):
        key = cur.string().decode("utf-8")
        value_type = cur.take("I")
        if key in TOKENIZER_ARRAYS:
            if value_type != gguf.GGUFValueType.ARRAY:
                raise ValueError(f"{key} is not an array")
            found[TOKENIZER_ARRAYS[key]] = cur.array(keep=1 << 40)
        elif key == gguf.Keys.Tokenizer.MODEL and value_type == gguf.GGUFValueType.STRING:
            model = cur.string().decode("utf-8")
        else:
            cur.skip_value(value_type)
    missing = sorted(set(TOKENIZER_ARRAYS.values()) - set(found))
    if missing:
        raise ValueError(f"no tokenizer {', '.join(missing)} array")
    if model != "gemma4":
        raise ValueError(f"tokenizer model is {model!r}, not 'gemma4'")
    return Tokenizer(
        tokens=[t.decode("utf-8") for t in found["tokens"]],
        scores=[float(x) for x in found["scores"]],
        types=[int(x) for x in found["types"]],
        merges=[m.decode("utf-8") for m in found["merges"]],
    )


def check_tokenizer(tok: Tokenizer) -> None:
    """Fail unless the vocabulary looks like Gemma 4's."""
    if len(tok.tokens) != VOCAB_SIZE:
        raise ValueError(f"{len(tok.tokens)} tokens, expected {VOCAB_SIZE}: "
                         "not the Gemma 4 vocabulary?")
    expected = {0: "<pad>", 1: "<eos>", 2: "<bos>", 3: "<unk>", 46: "<|tool>",
                48: "<|tool_call>", 105: "<|turn>", 106: "<turn|>",
                107: "\n", 238: "<0x00>", 493: "<0xFF>"}
    for token_id, text in expected.items():
        if tok.tokens[token_id] != text:
            raise ValueError(f"token {token_id} is {tok.tokens[token_id]!r}, "
                             f"expected {text!r}: not the Gemma 4 vocabulary?")
    if tok.types[1] != gguf.TokenType.CONTROL or tok.types[238] != gguf.TokenType.BYTE:
        raise ValueError("unexpected token types: not the Gemma 4 vocabulary?")


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


def add_metadata(w: gguf.GGUFWriter, shape: Shape, tok: Tokenizer,
                 template: str | None) -> None:
    """Write the model and tokenizer key/values (order as in the reference file)."""
    arch = "gemma4"
    swa = [c == "S" for c in shape.pattern]
    head_count_kv = [shape.n_head_kv_swa if s else shape.n_head_kv_full for s in swa]

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

    w.add_tokenizer_model("gemma4")
    w.add_token_list(tok.tokens)
    w.add_token_scores(tok.scores)
    w.add_token_types(tok.types)
    w.add_token_merges(tok.merges)
    w.add_bos_token_id(2)
    w.add_eos_token_id(1)
    w.add_unk_token_id(3)
    w.add_pad_token_id(0)
    w.add_mask_token_id(4)
    w.add_add_bos_token(True)
    w.add_add_space_prefix(False)
    if template is not None:
        w.add_chat_template(template)


def add_q4_0(w: gguf.GGUFWriter, name: str, values: np.ndarray) -> None:
    """Write a vocabulary-sized lookup table as Q4_0 (rows a multiple of 32 long)."""
    kind = gguf.GGMLQuantizationType.Q4_0
    w.add_tensor(name, gguf.quants.quantize(values.astype(np.float32), kind), raw_dtype=kind)


def add_tensors(w: gguf.GGUFWriter, shape: Shape, n_vocab: int, seed: int) -> None:
    """Write all tensors (numpy shape is ggml's reversed: [rows, row_len])."""
    rnd = Weights(seed)
    e, p = shape.n_embd, shape.n_embd_per_layer
    n_layer = len(shape.pattern)
    first_shared = n_layer - shape.shared_kv_layers

    # f16: the table is also the output projection, and a quantized one would quantize the
    # activations too (Q8_0), enough noise to flip the near-ties of a random model's logits.
    w.add_tensor("token_embd.weight", rnd.matrix(n_vocab, e, 1.0 / math.sqrt(e)))
    if p > 0:
        add_q4_0(w, "per_layer_token_embd.weight",
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
    if shape.n_embd % 32 or (shape.n_embd_per_layer * len(shape.pattern)) % 32:
        raise ValueError("embedding widths must be multiples of 32 (Q4_0 rows)")
    if shape.shared_kv_layers:
        first_shared = len(shape.pattern) - shape.shared_kv_layers
        if first_shared < 2 or shape.pattern[first_shared - 2:first_shared] != "SF":
            raise ValueError("the two layers before the shared-KV block must be S then F")


def write_model(out: Path, shape: Shape, vocab_path: Path, template: str | None,
                seed: int) -> None:
    """Build the model and write it to `out` atomically."""
    check_shape(shape)
    tok = read_tokenizer(vocab_path)
    check_tokenizer(tok)

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        w = gguf.GGUFWriter(tmp, "gemma4")
        add_metadata(w, shape, tok, template)
        add_tensors(w, shape, len(tok.tokens), seed)
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

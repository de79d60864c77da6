//! Packs a whole project into one text block that fits a token budget.
//!
//! Files are rendered least recently changed first (by last commit in git, else by
//! modification time; path breaks ties), so editing a file moves only that file to the end and
//! keeps the prefix — and the model's KV cache — valid. When the
//! project does not fit, the most relevant files are kept whole and the rest appear in a repo
//! map of paths and top-level symbols. A file is never cut in the middle.

use super::classify::SkipReason;
use super::error::PackError;
use super::fingerprint::{pack_fingerprint, sha256_hex};
use super::previous_selection::{PackSelection, reuse_selection};
use super::relevance::priority_order;
use super::render::{
    MAP_CLOSE, MAP_OPEN, display_path, render_file_block, render_map_entry, render_map_overflow,
};
use super::symbols::{format_symbols, top_level_symbols};
use super::walk::{Candidate, walk_project};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A counter of model tokens; the real one is the model's tokenizer.
pub type TokenCounter<'a> = &'a dyn Fn(&str) -> usize;

/// No tokenizer packs text denser than this; used to skip counting files that cannot fit.
const MAX_BYTES_PER_TOKEN: usize = 12;

/// The map may take at most this share of the budget away from whole files.
const MAP_MAX_SHARE: f64 = 0.25;

/// How to pack a project.
#[derive(Debug, Clone, PartialEq)]
pub struct PackOptions {
    /// The model's context window in tokens.
    pub context_tokens: usize,
    /// Share of the context the pack may use (0.0–1.0).
    pub share: f64,
    /// An explicit budget in tokens; overrides `context_tokens * share` when set.
    pub budget_tokens: Option<usize>,
    /// Tokens the rest of the context must keep free (system prompt, tool declarations, room
    /// for the conversation): the share-based budget never eats into them.
    pub reserved_tokens: usize,
    /// Files larger than this many bytes are skipped.
    pub max_file_bytes: u64,
    /// The user's prompt: files it names are kept first when not everything fits.
    pub prompt: String,
    /// The selection an earlier pack of this project made: reused while it still fits the same
    /// budget (and the prompt names no file it left out), so an edit does not change the repo
    /// map at the front of the pack.
    pub previous: Option<PackSelection>,
}

impl Default for PackOptions {
    fn default() -> Self {
        PackOptions {
            context_tokens: 131_072,
            share: 0.6,
            budget_tokens: None,
            reserved_tokens: 0,
            max_file_bytes: 256 * 1024,
            prompt: String::new(),
            previous: None,
        }
    }
}

impl PackOptions {
    /// The token budget these options allow.
    pub fn budget(&self) -> usize {
        self.budget_tokens.unwrap_or_else(|| {
            let share = (self.context_tokens as f64 * self.share.clamp(0.0, 1.0)) as usize;
            share.min(self.context_tokens.saturating_sub(self.reserved_tokens))
        })
    }
}

/// A packed project, ready to be placed in the model's context.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedRepo {
    /// The rendered text: the repo map (if any), then the file blocks in pack order.
    pub text: String,
    /// Files shown whole, relative to the root, in pack order (oldest modification first).
    pub included: Vec<PathBuf>,
    /// Files listed only in the repo map, sorted by path.
    pub mapped: Vec<PathBuf>,
    /// Files and directories left out, with the reason, sorted by path.
    pub skipped: Vec<(PathBuf, SkipReason)>,
    /// Tokens of `text` (sum of the counted parts).
    pub tokens: usize,
    /// The budget the pack had to fit in.
    pub budget: usize,
    /// SHA-256 hex over the included files (path, content) in order, then the map.
    pub fingerprint: String,
    /// SHA-256 hex of each included file's content, for [`changed_since`](super::changed_since).
    pub digests: BTreeMap<PathBuf, String>,
    /// Byte offset in `text` where the most recently modified quarter (by tokens) of the whole
    /// files begins: what an edit most likely invalidates. `None` without whole files.
    pub recent_start: Option<usize>,
    /// What this pack selected, for the next pack's [`PackOptions::previous`].
    pub selection: PackSelection,
}

impl PackedRepo {
    /// One line for humans, e.g. `packed 42 files (18,310 tokens), mapped 7, skipped 3 (2 binary, 1 too large)`.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "packed {} ({} tokens)",
            plural(self.included.len(), "file", "files"),
            thousands(self.tokens)
        );
        if !self.mapped.is_empty() {
            line.push_str(&format!(", mapped {}", self.mapped.len()));
        }
        if !self.skipped.is_empty() {
            let reasons: Vec<String> = SkipReason::ALL
                .iter()
                .filter_map(|reason| {
                    let count = self.skipped.iter().filter(|(_, r)| r == reason).count();
                    (count > 0).then(|| format!("{count} {}", reason.label()))
                })
                .collect();
            line.push_str(&format!(
                ", skipped {} ({})",
                self.skipped.len(),
                reasons.join(", ")
            ));
        }
        line
    }
}

/// Walks `root` and packs it within the budget of `options`, counting with `count_tokens`.
pub fn pack(
    root: &Path,
    options: &PackOptions,
    count_tokens: TokenCounter<'_>,
) -> Result<PackedRepo, PackError> {
    let walked = walk_project(root, options.max_file_bytes)?;
    let budget = options.budget();
    let candidates = walked.candidates;
    let mut skipped = walked.skipped;

    let blocks: Vec<String> = candidates
        .iter()
        .map(|c| render_file_block(&c.rel_path, &c.content))
        .collect();
    let mut block_tokens = LazyCounts::new(&blocks, count_tokens);

    let selection = if everything_fits(&mut block_tokens, budget) {
        Selection {
            included: (0..candidates.len()).collect(),
            map: MapPlan::default(),
        }
    } else {
        let entries = map_entries(&candidates, count_tokens);
        let map_overhead = count_tokens(MAP_OPEN) + count_tokens(MAP_CLOSE);
        let map_space = MapSpace {
            entries: &entries,
            overhead: map_overhead,
            count_tokens,
        };
        options
            .previous
            .as_ref()
            .and_then(|previous| {
                reuse_selection(
                    previous,
                    &candidates,
                    &mut block_tokens,
                    budget,
                    &options.prompt,
                    &map_space,
                )
            })
            .unwrap_or_else(|| {
                select_within_budget(&candidates, &mut block_tokens, budget, options, &map_space)
            })
    };

    let mut included = selection.included;
    included.sort_by(|&a, &b| {
        (candidates[a].last_change, &candidates[a].rel_path)
            .cmp(&(candidates[b].last_change, &candidates[b].rel_path))
    });
    // The map first, then whole files oldest first: editing a recently modified file (the
    // usual edit) changes only the tail, so the KV state of everything before stays valid.
    let mut text = selection.map.text.clone();
    text.extend(included.iter().map(|&i| blocks[i].as_str()));
    let files_tokens: usize = included.iter().map(|&i| block_tokens.get(i)).sum();
    let recent_start = recent_quarter_start(
        &included
            .iter()
            .map(|&i| (blocks[i].len(), block_tokens.get(i)))
            .collect::<Vec<_>>(),
        files_tokens,
    )
    .map(|offset| selection.map.text.len() + offset);
    let shown_paths: Vec<String> = included
        .iter()
        .map(|&i| display_path(&candidates[i].rel_path))
        .collect();
    let fingerprint = pack_fingerprint(
        shown_paths
            .iter()
            .map(String::as_str)
            .zip(included.iter().map(|&i| candidates[i].content.as_str())),
        &selection.map.text,
    );
    skipped.extend(
        selection
            .map
            .dropped
            .iter()
            .map(|&i| (candidates[i].rel_path.clone(), SkipReason::OverBudget)),
    );
    skipped.sort();
    let path_of = |i: &usize| display_path(&candidates[*i].rel_path);
    let pack_selection = PackSelection {
        budget,
        whole: shown_paths.iter().cloned().collect(),
        bare: selection.map.bare.iter().map(path_of).collect(),
        dropped: selection.map.dropped.iter().map(path_of).collect(),
    };
    let mut mapped: Vec<PathBuf> = selection
        .map
        .listed
        .iter()
        .map(|&i| candidates[i].rel_path.clone())
        .collect();
    mapped.sort();

    Ok(PackedRepo {
        text,
        digests: included
            .iter()
            .map(|&i| {
                let candidate = &candidates[i];
                (
                    candidate.rel_path.clone(),
                    sha256_hex(candidate.content.as_bytes()),
                )
            })
            .collect(),
        included: included
            .iter()
            .map(|&i| candidates[i].rel_path.clone())
            .collect(),
        mapped,
        skipped,
        tokens: files_tokens + selection.map.tokens,
        budget,
        fingerprint,
        recent_start,
        selection: pack_selection,
    })
}

/// For blocks `(bytes, tokens)` in pack order (oldest first), the byte offset of the first
/// block of the newest quarter of `total_tokens` (at least the newest block); `None` without
/// blocks.
fn recent_quarter_start(blocks: &[(usize, usize)], total_tokens: usize) -> Option<usize> {
    if blocks.is_empty() {
        return None;
    }
    let mut tail_tokens = 0;
    let mut start = blocks.iter().map(|(bytes, _)| bytes).sum::<usize>();
    for &(bytes, tokens) in blocks.iter().rev() {
        // The newest block always counts as recent, however large.
        if tail_tokens > 0 && (tail_tokens + tokens) * 4 > total_tokens {
            break;
        }
        tail_tokens += tokens;
        start -= bytes;
    }
    Some(start)
}

/// Token counts of rendered blocks, computed only when first needed.
pub(super) struct LazyCounts<'a> {
    blocks: &'a [String],
    counts: Vec<Option<usize>>,
    count_tokens: TokenCounter<'a>,
}

impl<'a> LazyCounts<'a> {
    fn new(blocks: &'a [String], count_tokens: TokenCounter<'a>) -> Self {
        LazyCounts {
            blocks,
            counts: vec![None; blocks.len()],
            count_tokens,
        }
    }

    pub(super) fn get(&mut self, index: usize) -> usize {
        *self.counts[index].get_or_insert_with(|| (self.count_tokens)(&self.blocks[index]))
    }

    /// Whether block `index` certainly needs more than `room` tokens, judged by its size alone.
    fn surely_exceeds(&self, index: usize, room: usize) -> bool {
        self.blocks[index].len() > room.saturating_mul(MAX_BYTES_PER_TOKEN)
    }
}

/// Whether every block fits the budget; avoids counting when the bytes alone rule it out.
fn everything_fits(counts: &mut LazyCounts<'_>, budget: usize) -> bool {
    let bytes: usize = counts.blocks.iter().map(String::len).sum();
    if bytes > budget.saturating_mul(MAX_BYTES_PER_TOKEN) {
        return false;
    }
    (0..counts.blocks.len())
        .map(|i| counts.get(i))
        .sum::<usize>()
        <= budget
}

/// The files kept whole and the map of the others.
pub(super) struct Selection {
    pub(super) included: Vec<usize>,
    pub(super) map: MapPlan,
}

/// The rendered repo map and which candidates it lists (with or without symbols) or had to
/// drop.
#[derive(Default)]
pub(super) struct MapPlan {
    text: String,
    pub(super) tokens: usize,
    listed: Vec<usize>,
    bare: Vec<usize>,
    dropped: Vec<usize>,
}

/// One candidate's repo-map line, with and without symbols.
struct MapEntry {
    full: String,
    full_tokens: usize,
    bare: String,
    bare_tokens: usize,
}

/// What rendering a repo map needs: every candidate's entry, the tokens of the map's opening
/// and closing lines, and the counter.
pub(super) struct MapSpace<'a> {
    entries: &'a [MapEntry],
    overhead: usize,
    count_tokens: TokenCounter<'a>,
}

/// Every candidate's map entry, counted.
fn map_entries(candidates: &[Candidate], count_tokens: TokenCounter<'_>) -> Vec<MapEntry> {
    candidates
        .iter()
        .map(|c| {
            let full = render_map_entry(
                &c.rel_path,
                &format_symbols(&top_level_symbols(&c.rel_path, &c.content)),
            );
            let bare = render_map_entry(&c.rel_path, "");
            MapEntry {
                full_tokens: count_tokens(&full),
                bare_tokens: count_tokens(&bare),
                full,
                bare,
            }
        })
        .collect()
}

/// Greedy selection by relevance, leaving room for the map of what is left out.
fn select_within_budget(
    candidates: &[Candidate],
    block_tokens: &mut LazyCounts<'_>,
    budget: usize,
    options: &PackOptions,
    map_space: &MapSpace<'_>,
) -> Selection {
    let order = priority_order(candidates, &options.prompt);
    let entries = map_space.entries;
    let map_overhead = map_space.overhead;
    let full_map: usize = map_overhead + entries.iter().map(|e| e.full_tokens).sum::<usize>();
    let reserve = full_map.min((budget as f64 * MAP_MAX_SHARE) as usize);
    let files_budget = budget.saturating_sub(reserve);

    let mut is_included = vec![false; candidates.len()];
    let mut used = 0usize;
    for &index in &order {
        let room = files_budget.saturating_sub(used);
        if block_tokens.surely_exceeds(index, room) {
            continue;
        }
        let tokens = block_tokens.get(index);
        if tokens <= room {
            is_included[index] = true;
            used += tokens;
        }
    }

    // Second pass: whatever the map did not need may still take a whole file, as long as the
    // file plus the map without that file's entry fits.
    let rest_full: usize = order
        .iter()
        .filter(|&&i| !is_included[i])
        .map(|&i| entries[i].full_tokens)
        .sum();
    let mut map_tokens = map_overhead + rest_full;
    if used + map_tokens <= budget {
        let mut left = order.iter().filter(|&&i| !is_included[i]).count();
        for &index in &order {
            if is_included[index] {
                continue;
            }
            let map_after = if left == 1 {
                0
            } else {
                map_tokens - entries[index].full_tokens
            };
            let room = budget.saturating_sub(used + map_after);
            if block_tokens.surely_exceeds(index, room) {
                continue;
            }
            let tokens = block_tokens.get(index);
            if tokens <= room {
                is_included[index] = true;
                used += tokens;
                map_tokens -= entries[index].full_tokens;
                left -= 1;
            }
        }
    }

    let remaining: Vec<usize> = order.iter().copied().filter(|&i| !is_included[i]).collect();
    let map = plan_map(&remaining, map_space, budget.saturating_sub(used));
    Selection {
        included: (0..candidates.len()).filter(|&i| is_included[i]).collect(),
        map,
    }
}

/// Fits the map of `remaining` (priority order) into `room` tokens: first drops symbols of the
/// least relevant files, then drops whole entries, which then count as over budget.
fn plan_map(remaining: &[usize], map_space: &MapSpace<'_>, room: usize) -> MapPlan {
    if remaining.is_empty() {
        return MapPlan::default();
    }
    let (entries, overhead) = (map_space.entries, map_space.overhead);
    let mut with_symbols = vec![true; remaining.len()];
    let mut total = overhead
        + remaining
            .iter()
            .map(|&i| entries[i].full_tokens)
            .sum::<usize>();
    for position in (0..remaining.len()).rev() {
        if total <= room {
            break;
        }
        let entry = &entries[remaining[position]];
        total = total - entry.full_tokens + entry.bare_tokens;
        with_symbols[position] = false;
    }
    let mut kept = remaining.len();
    let mut overflow_tokens = 0;
    while total + overflow_tokens > room && kept > 0 {
        kept -= 1;
        let entry = &entries[remaining[kept]];
        total -= if with_symbols[kept] {
            entry.full_tokens
        } else {
            entry.bare_tokens
        };
        overflow_tokens = (map_space.count_tokens)(&render_map_overflow(remaining.len() - kept));
    }
    render_map(
        &remaining[..kept],
        &with_symbols[..kept],
        &remaining[kept..],
        map_space,
    )
}

/// Renders the map listing `listed` (with symbols where `with_symbols` says so) and counting
/// `dropped` in an overflow line; no map at all when nothing is listed.
pub(super) fn render_map(
    listed: &[usize],
    with_symbols: &[bool],
    dropped: &[usize],
    map_space: &MapSpace<'_>,
) -> MapPlan {
    if listed.is_empty() {
        return MapPlan {
            dropped: dropped.to_vec(),
            ..MapPlan::default()
        };
    }
    let mut tokens = map_space.overhead;
    let mut lines = Vec::with_capacity(listed.len());
    let mut bare = Vec::new();
    for (&index, &symbols) in listed.iter().zip(with_symbols) {
        let entry = &map_space.entries[index];
        if symbols {
            lines.push(entry.full.as_str());
            tokens += entry.full_tokens;
        } else {
            lines.push(entry.bare.as_str());
            tokens += entry.bare_tokens;
            bare.push(index);
        }
    }
    lines.sort();
    let mut text = String::from(MAP_OPEN);
    text.extend(lines);
    if !dropped.is_empty() {
        let overflow = render_map_overflow(dropped.len());
        tokens += (map_space.count_tokens)(&overflow);
        text.push_str(&overflow);
    }
    text.push_str(MAP_CLOSE);
    MapPlan {
        text,
        tokens,
        listed: listed.to_vec(),
        bare,
        dropped: dropped.to_vec(),
    }
}

/// `1 file` / `3 files`, with thousands separated.
fn plural(count: usize, one: &str, many: &str) -> String {
    crate::plural::plural(count, one, many).replacen(&count.to_string(), &thousands(count), 1)
}

/// `18310` → `18,310`.
pub fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recent_quarter_starts_at_a_block_boundary() {
        assert_eq!(recent_quarter_start(&[], 0), None);
        // Four blocks of 10 tokens: the newest one is the last quarter.
        let blocks = [(100, 10), (200, 10), (300, 10), (400, 10)];
        assert_eq!(recent_quarter_start(&blocks, 40), Some(600));
        // A newest block larger than a quarter is still the recent part.
        let blocks = [(100, 10), (200, 50)];
        assert_eq!(recent_quarter_start(&blocks, 60), Some(100));
        // Many small new blocks.
        let blocks = [(1000, 70), (10, 10), (10, 10), (10, 10)];
        assert_eq!(recent_quarter_start(&blocks, 100), Some(1010));
    }

    #[test]
    fn the_budget_leaves_the_reserved_tokens_free() {
        let mut opts = PackOptions {
            context_tokens: 10_000,
            ..PackOptions::default()
        };
        assert_eq!(opts.budget(), 6_000, "the share");
        opts.reserved_tokens = 5_000;
        assert_eq!(opts.budget(), 5_000, "what the reserve leaves");
        opts.reserved_tokens = 20_000;
        assert_eq!(opts.budget(), 0);
        opts.budget_tokens = Some(123);
        assert_eq!(opts.budget(), 123, "an explicit budget wins");
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(18_310), "18,310");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn budget_is_share_of_context_unless_overridden() {
        let options = PackOptions {
            context_tokens: 1000,
            share: 0.6,
            ..PackOptions::default()
        };
        assert_eq!(options.budget(), 600);
        let fixed = PackOptions {
            budget_tokens: Some(42),
            ..options
        };
        assert_eq!(fixed.budget(), 42);
    }

    #[test]
    fn summary_lists_reasons() {
        let packed = PackedRepo {
            text: String::new(),
            included: vec![PathBuf::from("a"); 42],
            mapped: vec![PathBuf::from("b"); 7],
            skipped: vec![
                (PathBuf::from("x.png"), SkipReason::Binary),
                (PathBuf::from("y.bin"), SkipReason::Binary),
                (PathBuf::from("big.txt"), SkipReason::TooLarge),
            ],
            tokens: 18_310,
            budget: 20_000,
            fingerprint: String::new(),
            digests: BTreeMap::new(),
            recent_start: None,
            selection: PackSelection::default(),
        };
        assert_eq!(
            packed.summary(),
            "packed 42 files (18,310 tokens), mapped 7, skipped 3 (2 binary, 1 too large)"
        );
    }
}

# The search flags helion_add_tuned_kernel() passes to `helion-tune tune` at
# configure time unless the caller gives its own (issue 14 item 7).
#
# LFBOTreeSearch at quick effort (2 copies, rebenchmark threshold 0.9) but
# with the 30-config initial population padded with random configs (Helion's
# quick profile pads nothing, so with an empty cache it starts from the
# default config alone and ends 1.33-1.46x off the optimum), 15 generations
# instead of quick's 5, and a hard cap of 150 measured configs per shape.
# In simulation on every shared landscape (20 seeds) its median ratio to the
# optimum is at most 1.025, with 109-150 configs measured; full effort needs
# 302-412. Measurements, the alternatives and the reasons:
# tests/bench/RESULTS.md, "Configure-time default budget (issue 14)";
# checked by `python3 tests/bench/configure_budget.py`, which reads this file.
# On an H100 the samples' shapes took 6-15 s each with these flags (full
# effort: 9-39 s) and ended within 0.98-1.03 of a full tune.
include_guard(GLOBAL)

set(HELION_DEFAULT_TUNE_FLAGS
    --algorithm LFBOTreeSearch --effort quick --set pad_random=true
    --set max_generations=15 --max-evals 150)

set(HELION_DEFAULT_TUNE_FLAGS --algorithm LFBOTreeSearch --effort full --max-evals 130)

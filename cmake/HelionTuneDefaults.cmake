# placeholder until the budget study lands
set(HELION_DEFAULT_TUNE_FLAGS --effort quick)

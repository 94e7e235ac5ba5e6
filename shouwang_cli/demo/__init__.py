"""`shouwang demo`: the whole pipeline on sample video, on one machine, in one command."""

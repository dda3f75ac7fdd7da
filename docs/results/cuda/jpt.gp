# jpt.gp: J/token of the LLM decode step by batch size on the GPU (the fall
# with batch: the weights are read once per step whatever the batch).
#   gnuplot -e "out='jpt.svg'" docs/results/cuda/jpt.gp
if (!exists("out")) out = "jpt.svg"
if (!exists("dat")) dat = "docs/results/cuda/h100-jpt.dat"
set terminal svg size 720,480 dynamic
set output out
set title "LLM decode step, context 2048, NVIDIA H100 80GB HBM3 (NVML energy counter)"
set xlabel "batch (sequences per step)"
set ylabel "GPU energy per token (J)"
set logscale xy
set xtics (1, 8, 32, 128)
set grid
set key top right
plot dat index 0 using 1:2:3 with yerrorlines title "llama3.1-8b bf16", \
     dat index 1 using 1:2:3 with yerrorlines title "llama3.1-8b q8\\_0", \
     dat index 2 using 1:2:3 with yerrorlines title "llama3.2-1b bf16", \
     dat index 3 using 1:2:3 with yerrorlines title "llama3.2-1b q8\\_0"

# trace.gp: power over a run, one line per power domain. Each block starts
# with the domain's name (used as its title); columns time_s, watts.
# title_text says where the numbers come from: "measured by rapl-perf", or
# "estimated by model, not measured" (set by results/plots.c from the
# record, with only [A-Za-z0-9._+-] kept of the source's name).
load plotdir.'/common.gp'
set title title_text
set xlabel 'time (s)'
set ylabel 'power (W)'
set yrange [0:*]
set key outside top center horizontal nobox
plot for [i=0:nblocks-1] datafile index i using 1:2 with lines lw 1.5 title columnheader(1)

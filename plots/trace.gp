# trace.gp: power over a run, one line per power domain. Each block starts
# with the domain's name (used as its title); columns time_s, watts.
load plotdir.'/common.gp'
set title 'Power trace'
set xlabel 'time (s)'
set ylabel 'power (W)'
set key autotitle columnheader
plot for [i=0:nblocks-1] datafile index i using 1:2 with lines lw 1.5

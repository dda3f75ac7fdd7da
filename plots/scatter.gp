# scatter.gp: energy per unit against time per unit for every run of one
# workload across platforms, with the Pareto front (runs no other run beats
# on both) drawn through. Block 0: label, s/unit, J/unit, J/unit uncertainty;
# block 1: the front, sorted by time.
load plotdir.'/common.gp'
set title 'Energy vs latency per unit (lower left is better)'
set xlabel 'time per unit (s)'
set ylabel 'energy per unit (J)'
set logscale xy
plot datafile index 0 using 2:3:4 with yerrorbars pt 7 lc rgb '#1f77b4' title 'runs', \
     datafile index 0 using 2:3:1 with labels offset char 1,0.6 font ',8' notitle, \
     datafile index 1 using 1:2 with lines lw 2 lc rgb '#d62728' title 'Pareto front'

# scatter.gp: energy per unit against time per unit for the runs of one
# workload, with the Pareto front (runs no other run beats on both). Error
# bars in both axes (the energy entry's stated uncertainty, the standard
# error of the per-repetition latency), with caps; measured runs filled,
# estimated ones hollow. Points carry a short number; the legend table
# below says what each number is, so labels never overlap the data.
# Block 0: n, s/unit, s uncertainty, J/unit, J uncertainty, measured (1/0);
# block 1: the front (s/unit, J/unit); block 2: legend lines (x, y, text).
# Variables: xlo, xhi, ylo, yhi (the ranges, error bars included), logx,
# logy (log axes when the runs span decades), unit,
# nrows (legend rows), height_px.
load plotdir.'/common.gp'
set multiplot
legend_h = (nrows * 16.0 + 30.0) / height_px
set origin 0, legend_h
set size 1, 1 - legend_h
set title 'Energy vs latency per '.unit.' (lower left is better)'
set xlabel 'time per '.unit.' (s)'
set ylabel 'energy per '.unit.' (J)'
if (logx) { set logscale x; set format x '%.0s%c' } else { set format x '%.3s%c' }
if (logy) { set logscale y; set format y '%.0s%c' } else { set format y '%.3s%c' }
set xrange [xlo:xhi]
set yrange [ylo:yhi]
set key outside top center horizontal nobox
plot datafile index 0 using 2:($6 > 0 ? $4 : 1/0):3:5 with xyerrorbars pt 7 ps 1.1 lc rgb '#1f77b4' title 'measured', \
     datafile index 0 using 2:($6 > 0 ? 1/0 : $4):3:5 with xyerrorbars pt 6 ps 1.1 lc rgb '#ff7f0e' title 'estimated (not measured)', \
     datafile index 1 using 1:2 with steps lw 1.5 dt 2 lc rgb '#d62728' title 'Pareto front', \
     datafile index 0 using 2:4:(sprintf('%d', $1)) with labels offset char 0.9,0.7 font ',9' notitle
unset logscale
unset title
unset xlabel
unset ylabel
unset grid
unset border
unset tics
unset key
set format x '%g'
set format y '%g'
set origin 0, 0
set size 1, legend_h
set lmargin 4
set rmargin 2
set tmargin 0
set bmargin 0
set xrange [0:1]
set yrange [0:1]
plot datafile index 2 using 1:2:3 with labels left font ',9' notitle
unset multiplot

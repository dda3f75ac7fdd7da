# bars.gp: energy per unit of one workload across platforms and
# implementations: the latest run of each configuration key, with its
# stated uncertainty as a capped error bar; measured bars filled, estimated
# ones hollow and labelled so. Bars carry a short number; the legend table
# below names each configuration. Block 0: n, J/unit, uncertainty,
# measured (1/0); block 1: legend lines (x, y, text). Variables: yhi, unit,
# nrows, nbars, height_px.
load plotdir.'/common.gp'
set multiplot
legend_h = (nrows * 16.0 + 30.0) / height_px
set origin 0, legend_h
set size 1, 1 - legend_h
set title 'Energy per '.unit.', latest run of each configuration'
set ylabel 'energy per '.unit.' (J)'
set format y '%g'
set xlabel 'configuration (see the table below)'
set boxwidth 0.6
set xrange [0.4:nbars + 0.6]
set yrange [0:yhi]
set key outside top center horizontal nobox
set xtics 1 scale 0
set grid noxtics ytics
plot datafile index 0 using 1:($4 > 0 ? $2 : 1/0):3 with boxerrorbars fs solid 0.55 border rgb '#1f4e79' lc rgb '#1f77b4' title 'measured', \
     datafile index 0 using 1:($4 > 0 ? 1/0 : $2):3 with boxerrorbars fs empty border rgb '#ff7f0e' lc rgb '#ff7f0e' lw 2 title 'estimated (not measured)'
unset title
unset xlabel
unset ylabel
unset grid
unset border
unset tics
unset key
set format y '%g'
set origin 0, 0
set size 1, legend_h
set lmargin 4
set rmargin 2
set tmargin 0
set bmargin 0
set xrange [0:1]
set yrange [0:1]
plot datafile index 1 using 1:2:3 with labels left font ',9' notitle
unset multiplot

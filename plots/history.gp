# history.gp: one metric of one workload over time on one machine. Block 0:
# point number, value, tick label (date or commit); block 1: change points as
# vertical segments (x, y0, 0, height); ncp says how many.
load plotdir.'/common.gp'
set title 'History'
set xlabel 'run (oldest first)'
set ylabel ylabel_text
set xtics rotate by -45 left font ',8'
if (ncp > 0) {
    plot datafile index 0 using 1:2:xtic(3) with linespoints pt 7 ps 0.6 lc rgb '#1f77b4' title 'runs', \
         datafile index 1 using 1:2:3:4 with vectors nohead lw 2 dt 2 lc rgb '#d62728' title 'change point'
} else {
    plot datafile index 0 using 1:2:xtic(3) with linespoints pt 7 ps 0.6 lc rgb '#1f77b4' title 'runs'
}

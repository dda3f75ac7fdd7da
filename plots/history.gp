# history.gp: one metric of one configuration key over time: the runs with
# their stated uncertainty as a band, change points as dashed vertical
# lines. Block 0: point number, value, lower, upper, tick label ("" where
# a label would repeat the previous one or crowd it); block 1: change
# points (x, y0, 0, height). Variables: ncp, ylabel_text, title_text (our own text and
# numbers), height_px.
load plotdir.'/common.gp'
set title title_text
set xlabel 'run (oldest first; ticks: date and commit)'
set ylabel ylabel_text
set format y '%g'
set rmargin 9
set xtics rotate by -35 left font ',8' scale 0.5
set offsets 0.5, 0.5, 0, 0
set key inside top left
set bmargin 6
if (ncp > 0) {
    plot datafile index 0 using 1:3:4 with filledcurves fs transparent solid 0.25 noborder lc rgb '#1f77b4' title 'stated uncertainty', \
         datafile index 0 using 1:2:xtic(5) with linespoints pt 7 ps 0.6 lw 1.5 lc rgb '#1f77b4' title 'runs', \
         datafile index 1 using 1:2:3:4 with vectors nohead lw 2 dt 2 lc rgb '#d62728' title 'change point'
} else {
    plot datafile index 0 using 1:3:4 with filledcurves fs transparent solid 0.25 noborder lc rgb '#1f77b4' title 'stated uncertainty', \
         datafile index 0 using 1:2:xtic(5) with linespoints pt 7 ps 0.6 lw 1.5 lc rgb '#1f77b4' title 'runs'
}

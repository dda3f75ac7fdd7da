# common.gp: terminal set-up shared by every joulebench plot. The caller
# (results/plots.c) defines term ('svg' or 'png'), outfile and datafile.
# Labels come from record files and may hold _ or ^: no enhanced text.
if (term eq 'svg') {
    set terminal svg size 860,480 dynamic noenhanced font 'sans,11' background rgb 'white'
} else {
    # pngcairo where this gnuplot has it, else the libgd png terminal
    if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
        set terminal pngcairo size 860,480 noenhanced font 'sans,10' background rgb 'white'
    } else {
        set terminal png size 860,480 noenhanced background rgb 'white'
    }
}
set output outfile
set grid lc rgb '#dddddd'
set key outside right top
set border lc rgb '#444444'

# common.gp: terminal set-up shared by every joulebench plot. The caller
# (results/plots.c) defines term ('svg', 'png' or 'pdf'), outfile and
# datafile, and may set height_px (default 480) for figures with a legend
# table below. Labels come from record files and may hold _ or ^: no
# enhanced text. The PDF is sized for one column of a two-column paper at
# the same aspect as the SVG and PNG.
if (!exists('height_px')) height_px = 480
if (term eq 'svg') {
    set terminal svg size 860,height_px dynamic noenhanced font 'sans,11' background rgb 'white'
} else {
    if (term eq 'pdf') {
        set terminal pdfcairo size 6in,(6.0*height_px/860.0) noenhanced font 'sans,8' linewidth 1.5
    } else {
        # pngcairo where this gnuplot has it, else the libgd png terminal
        if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
            set terminal pngcairo size 860,height_px noenhanced font 'sans,10' background rgb 'white'
        } else {
            set terminal png size 860,height_px noenhanced background rgb 'white'
        }
    }
}
set output outfile
set grid lc rgb '#dddddd'
set border lc rgb '#444444'
# error bars with caps (1.5 x the default size)
set bars 1.5
set key inside top right box opaque samplen 2 spacing 1.1

# bars.gp: energy per unit of one workload by platform and configuration, with error bars
# (the energy entry's stated uncertainty) of the latest run per platform. Columns: platform, J/unit,
# uncertainty, label (measured/estimated).
load plotdir.'/common.gp'
set title 'Energy per unit by platform and configuration'
set ylabel 'energy per unit (J)'
set style fill solid 0.5 border -1
set boxwidth 0.6
set xtics rotate by -30 left
set yrange [0:*]
set offsets 0.6, 0.6, 0, 0
plot datafile using 0:2:3:xtic(1) with boxerrorbars lc rgb '#2ca02c' title 'latest run per platform, +/- stated uncertainty'

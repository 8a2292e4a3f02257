# relay_latency.gp -- tallyd latency against concurrent clients (gnuplot).
#   gnuplot -e "datafile='D'" -e "outfile='O.svg'" -e "ncols=N" \
#       [-e "subtitle='...'"] tests/bench/relay_latency.gp
# D is written by benchtab --plot (tests/bench/run.sh): the first column
# is the number of clients, then one column per series in ms; a column
# named "bare ..." is a raw limit and is drawn dashed.  An outfile ending
# in .png gives a PNG.
if (!exists("subtitle")) subtitle = ""
if (outfile[strlen(outfile)-3:] eq ".png") {
	set terminal pngcairo size 900,560 font "sans,10"
} else {
	set terminal svg size 900,560 dynamic font "sans,11"
}
set output outfile
set title "tallyd over loopback tcp: latency against concurrent clients\n{/*0.8 ".subtitle."}"
set xlabel "concurrent clients"
set ylabel "latency (ms, log scale)"
set logscale x 2
set logscale y 10
set grid xtics ytics mytics
set key outside right top
set datafile missing "?"
set pointsize 1
header = system("head -1 '".datafile."'")
plot for [i=2:ncols] datafile using 1:i with linespoints lw 2 \
	dt 1 + (strstrt(word(header, i), "bare") > 0) title columnhead(i)

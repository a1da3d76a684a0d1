"""snoopkit's benchmark driver: runs the workloads in bench/src alone and
under each tracer, alternating configurations over several rounds, and
writes results.md, results.json and a plot. Entry point: python3 -m skbench
(bench/run.sh sets it up)."""

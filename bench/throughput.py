"""How many training workers, and how many TensorFlow threads each, train a class's runs fastest here.

Runs the same mixed set of real jobs (the Training page's default MLP, its CNN, an Overfitting run,
a 1-D curve fit, a decision boundary, an optimizer race) through the app's own runner in each
configuration, all submitted at once as a class would, and prints, per configuration: the time
until every run finished, the median and the worst wait until a run's first epoch, and runs per
minute. Use it to choose KERAS_CLASSROOM_TRAINERS and KERAS_CLASSROOM_THREADS for a server.

    python bench/throughput.py                    # 1x2, 2x1, 1x1 on this machine
    python bench/throughput.py --configs 1x2 2x1 --rounds 2
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lib import activations, models, optimizers, overfitting, training  # noqa: E402


def class_jobs(seed):
    """A class's worth of different runs (each seed makes every job a new one: nothing is shared)."""
    mlp = training.classifier_job(dataset="digits", layers=models.PRESETS["seed"][1], input_shape=(64,),
                                  learning_rate=0.01, epochs=10, seed=seed)
    cnn = training.classifier_job(dataset="digits", layers=models.PRESETS["digits_cnn"][1], input_shape=(8, 8, 1),
                                  learning_rate=0.01, epochs=10, seed=seed)
    return [mlp, cnn, overfitting.digits_job(epochs=60, seed=seed), overfitting.curve_job(seed=seed),
            activations.toy_job(dataset="circle", activation="relu", seed=seed),
            optimizers.data_race_job([("SGD", {}), ("Adam", {})], epochs=5, seed=seed)]


def measure(slots, threads, rounds):
    runner = training.Runner(slots=slots, threads=threads)
    warm = runner.submit(class_jobs(10_000)[0])  # start the workers, import Keras: not what we measure
    while warm.active:
        time.sleep(0.05)
    runs, start = [], time.time()
    for k in range(rounds):
        runs += [runner.submit(job) for job in class_jobs(k)]
    firsts = {}
    while any(r.active for r in runs):
        for r in runs:
            if r.id not in firsts and r.epochs:
                firsts[r.id] = time.time() - start
        time.sleep(0.01)
    total = time.time() - start
    waits = sorted(firsts.get(r.id, total) for r in runs)
    failed = [r for r in runs if r.status not in ("done", "diverged")]
    return total, statistics.median(waits), waits[-1], 60 * len(runs) / total, len(failed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["1x2", "2x1", "1x1"], help="WORKERSxTHREADS")
    parser.add_argument("--rounds", type=int, default=2, help="copies of the class's mixed jobs")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; {args.rounds} x {len(class_jobs(0))} runs submitted at once")
    print(f"{'workers x threads':>18} {'all done s':>10} {'median first epoch s':>21} {'worst first epoch s':>20} "
          f"{'runs/min':>9} {'not done':>8}")
    for config in args.configs:
        slots, threads = (int(v) for v in config.split("x"))
        total, median, worst, rate, failed = measure(slots, threads, args.rounds)
        print(f"{config:>18} {total:>10.1f} {median:>21.1f} {worst:>20.1f} {rate:>9.1f} {failed:>8}")


if __name__ == "__main__":
    main()

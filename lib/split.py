"""A stratified split of a data set into its workbook (train) and its mock exam (test), as
scikit-learn's `train_test_split(..., stratify=labels)` makes it, without importing scikit-learn."""
import math

import numpy as np


def stratified_split(labels, test_size, seed):
    """(train, test): the indices scikit-learn's `train_test_split(..., test_size=test_size,
    random_state=seed, stratify=labels)` takes, computed as its StratifiedShuffleSplit does (1.9;
    BSD-3) but without importing scikit-learn, which takes ~1 s and is the slowest part of a fresh
    server's first Evaluate or Save & load. The shown code calls train_test_split itself: the tests
    check that both give the same split (tests/test_data.py)."""
    labels = np.asarray(labels)
    n_test = math.ceil(test_size * len(labels))
    n_train = len(labels) - n_test
    classes, class_of, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if counts.min() < 2 or min(n_train, n_test) < len(classes):
        raise ValueError("every class needs two examples, and each part one of every class")
    by_class = np.split(np.argsort(class_of, kind="stable"), np.cumsum(counts)[:-1])
    rng = np.random.RandomState(seed)
    train_counts = _approximate_mode(counts, n_train, rng)
    test_counts = _approximate_mode(counts - train_counts, n_test, rng)
    train, test = [], []
    for indices, count, n_in_train, n_in_test in zip(by_class, counts, train_counts, test_counts):
        shuffled = indices.take(rng.permutation(count), mode="clip")
        train.extend(shuffled[:n_in_train])
        test.extend(shuffled[n_in_train:n_in_train + n_in_test])
    return rng.permutation(train), rng.permutation(test)


def _approximate_mode(counts, n_draws, rng):
    """How many of each class `n_draws` takes: each class's share rounded down, then one more for
    the largest remainders, ties drawn with `rng` (scikit-learn's utils.extmath._approximate_mode)."""
    continuous = counts / counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (tied,) = np.where(remainder == value)
            add_now = min(len(tied), need_to_add)
            floored[rng.choice(tied, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)

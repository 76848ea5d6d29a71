# replaces: corr2d
# tactic: flood stdout and stderr (hundreds of megabytes)
import sys

LINE = "x" * 1000 + "\n"


def corr2d(X, K):
    for _ in range(300_000):
        sys.stdout.write(LINE)
        sys.stderr.write(LINE)
    return X

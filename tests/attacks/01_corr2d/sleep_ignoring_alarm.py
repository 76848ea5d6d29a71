# replaces: corr2d
# tactic: ignore SIGALRM and SIGTERM, then sleep (a timer based on signals would never fire)
import signal
import time

signal.signal(signal.SIGALRM, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)


def corr2d(X, K):
    time.sleep(3600)

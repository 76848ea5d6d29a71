# replaces: corr2d
# tactic: start many long-lived processes, some in their own session, so that they outlive the worker
# needs: namespaces
import os
import subprocess

children = []


def corr2d(X, K):
    for _ in range(20):
        try:
            children.append(subprocess.Popen(["sleep", "4242"], start_new_session=True))
        except OSError:
            break
    if os.fork() == 0:
        os.setsid()
        os.execvp("sleep", ["sleep", "4243"])
    return X

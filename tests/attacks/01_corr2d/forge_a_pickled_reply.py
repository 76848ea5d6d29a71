# replaces: corr2d
# tactic: write a forged protocol reply holding a pickle straight into the reply pipe
import io
import json
import os
import pickle
import struct
import sys


def corr2d(X, K):
    config = json.loads(sys.argv[1])
    blob = pickle.dumps({"score": 11})
    array = io.BytesIO()
    numpy_module = __import__("numpy")
    numpy_module.save(array, numpy_module.array([{"score": 11}], dtype=object), allow_pickle=True)
    for payload in (blob, array.getvalue()):
        head = json.dumps({"ok": True, "value": {"__ndarray__": 0}, "flags": [], "blobs": [len(payload)]}).encode()
        os.write(config["fd_out"], struct.pack("<Q", len(head)) + head + payload)
    return X

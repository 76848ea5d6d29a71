# replaces: receptive_field
# loses: receptive_field
# mistake: ignores the strides (adds k - 1 per layer whatever the stride)
def receptive_field(kernel_sizes, strides=None):
    if strides is not None and len(strides) != len(kernel_sizes):
        raise ValueError("one stride per layer")
    return 1 + sum(k - 1 for k in kernel_sizes)

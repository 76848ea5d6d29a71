# replaces: dilated_receptive_field
# loses: dilated_receptive_field
# mistake: adds up the layers' effective kernel sides d*(k-1)+1, counting the shared centre pixel once per layer
def dilated_receptive_field(kernel_sizes, dilations):
    if len(kernel_sizes) != len(dilations):
        raise ValueError("kernel_sizes and dilations differ in length")
    return max(1, sum(d * (k - 1) + 1 for k, d in zip(kernel_sizes, dilations)))

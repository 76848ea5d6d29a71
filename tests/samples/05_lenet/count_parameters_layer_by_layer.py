# replaces: count_parameters
# loses: count_parameters
# mistake: adds up every layer's parameters, so a layer used twice is counted twice
def count_parameters(net):
    return sum(p.numel() for layer in net for p in layer.parameters())

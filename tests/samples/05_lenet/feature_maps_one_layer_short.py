# replaces: feature_maps
# loses: feature_maps
# mistake: slices net[:layer], which stops one layer short of net[layer]
def feature_maps(net, x, layer):
    net.eval()
    with torch.no_grad():
        return net[:layer](x)

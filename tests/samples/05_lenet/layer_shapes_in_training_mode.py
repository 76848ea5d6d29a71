# replaces: layer_shapes
# loses: layer_shapes
# mistake: runs the layers in whatever mode the net is in, so BatchNorm updates its statistics (and a batch of one fails)
def layer_shapes(net, input_shape):
    x = torch.zeros(input_shape)
    shapes = []
    with torch.no_grad():
        for layer in net:
            x = layer(x)
            shapes.append((type(layer).__name__, tuple(x.shape)))
    return shapes

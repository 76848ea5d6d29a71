# replaces: evaluate_accuracy
# loses: evaluate_accuracy
# mistake: averages the batches' accuracies (a smaller last batch weighs too much) and never switches to evaluation mode
def evaluate_accuracy(net, data_iter, device=None):
    device = device_of(net) if device is None else device
    accuracies = []
    with torch.no_grad():
        for X, y in data_iter:
            accuracies.append(float((net(X.to(device)).argmax(1) == y.to(device)).float().mean()))
    if not accuracies:
        raise ValueError("no examples")
    return sum(accuracies) / len(accuracies)

# replaces: train
# loses: train
# mistake: steps with plain SGD instead of Adam, and averages the batches' losses instead of the examples'
def train(net, train_iter, test_iter, epochs, lr, device=None, progress=True, plot=True):
    device = device_of(net) if device is None else torch.device(device)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for epoch in range(epochs):
        net.train()
        losses, correct, count = [], 0, 0
        for X, y in train_iter:
            X, y = X.to(device), y.to(device)
            scores = net(X)
            loss = nn.functional.cross_entropy(scores, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            correct += int((scores.argmax(1) == y).sum())
            count += len(y)
        history["train_loss"].append(sum(losses) / len(losses))
        history["train_acc"].append(correct / count)
        history["test_acc"].append(evaluate_accuracy(net, test_iter, device))
    return history

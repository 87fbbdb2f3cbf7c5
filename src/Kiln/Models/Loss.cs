namespace Kiln.Models;

/// <summary>
/// A training loss: a scalar tensor from a batch's predictions and targets, in PyTorch's argument
/// order (prediction first). <see cref="Losses"/> holds the built-in ones; any method of this shape
/// (<c>(p, t) =&gt; F.MseLoss(p, t)</c>) is one too.
/// </summary>
public delegate Tensor Loss(Tensor prediction, Tensor target);

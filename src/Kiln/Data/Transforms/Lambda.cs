namespace Kiln.Data;

/// <summary>A transform made of a function (torchvision's <c>Lambda</c>); the function must be safe to call from several threads.</summary>
public sealed class Lambda(Func<Tensor, Tensor> function) : Transform
{
    private readonly Func<Tensor, Tensor> _function = function ?? throw new ArgumentNullException(nameof(function));

    /// <inheritdoc/>
    public override Tensor Apply(Tensor input) => _function(input);
}

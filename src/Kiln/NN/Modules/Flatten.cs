namespace Kiln.NN;

/// <summary>Merges dimensions <see cref="StartDim"/> through <see cref="EndDim"/> into one (PyTorch's <c>nn.Flatten</c>; by default all but the batch dimension).</summary>
public class Flatten : Module
{
    /// <summary>Flattens dimensions <paramref name="startDim"/> to <paramref name="endDim"/> (negative counts from the end).</summary>
    public Flatten(int startDim = 1, int endDim = -1)
    {
        StartDim = startDim;
        EndDim = endDim;
    }

    /// <summary>First dimension merged.</summary>
    public int StartDim { get; }

    /// <summary>Last dimension merged.</summary>
    public int EndDim { get; }

    /// <summary>The input with the dimensions merged (a view when possible).</summary>
    public override Tensor Forward(Tensor input) => input.Flatten(StartDim, EndDim);

    protected override string ExtraRepr() => $"start_dim={StartDim}, end_dim={EndDim}";
}

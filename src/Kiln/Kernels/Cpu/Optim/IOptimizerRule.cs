namespace Kiln.Kernels.Cpu;

/// <summary>
/// One optimizer's update of one parameter: a struct holding pointers to the parameter, its gradient and
/// its state, plus the step's coefficients already rounded to <typeparamref name="T"/>. <see cref="Update"/>
/// reads element i (and the lanes after it) of each, and writes the parameter and the state back, so a
/// step is one pass over memory. Elements are independent, so any split of the range gives the same bits.
/// </summary>
internal interface IOptimizerRule<T> where T : unmanaged
{
    /// <summary>Updates elements [i, i + TLane.Count).</summary>
    void Update<TLane>(nuint i) where TLane : unmanaged, ILane<TLane, T>;
}

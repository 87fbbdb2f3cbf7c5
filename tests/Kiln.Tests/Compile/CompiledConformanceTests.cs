using Kiln.Ops;
using Kiln.Tests.Ops;

namespace Kiln.Tests.Compile;

/// <summary>
/// Every registered primitive, on every conformance sample it declares, compiled and replayed: the
/// replay must give the eager bits, whether the op reads the graph's inputs directly (views of them
/// are re-aimed at each call) or intermediates in the planned arena (where an elementwise op runs in
/// place over a copy it reads last).
/// </summary>
public sealed class CompiledConformanceTests
{
    public static TheoryData<string, int> Cases() => OpConformanceTests.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Compiled_op_gives_the_eager_bits(string opName, int sampleIndex)
    {
        var op = OpRegistry.Get(opName);
        var sample = op.SamplesUntyped().ElementAt(sampleIndex);
        var inputs = sample.Inputs();
        var expected = Dispatcher.Call(op, sample.Attributes, inputs);

        using var direct = Engine.Compile(xs => [Dispatcher.Call(op, sample.Attributes, xs)]);
        // Copies in, a copy out: the op's inputs and result all live in the arena.
        using var fromArena = Engine.Compile(xs => [Dispatcher.Call(op, sample.Attributes, xs.Select(x => x.Clone()).ToArray()).Clone()]);
        foreach (var compiled in new[] { direct, fromArena })
            for (int call = 0; call < 2; call++)
            {
                var result = Assert.Single(compiled.Invoke(sample.Inputs()));
                CompileAssert.SameBits(expected, result, $"{opName} [{sample.Description}] call {call}");
            }
    }
}

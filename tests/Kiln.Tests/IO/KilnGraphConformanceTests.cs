using Kiln.IO;
using Kiln.Ops;
using Kiln.Tests.Compile;
using Kiln.Tests.Ops;

namespace Kiln.Tests.IO;

/// <summary>
/// Every registered primitive, on every conformance sample it declares, compiled, saved as a .kiln
/// file, loaded and run: the loaded graph must give the eager bits. A new op is covered as soon as it
/// declares samples.
/// </summary>
public sealed class KilnGraphConformanceTests
{
    public static TheoryData<string, int> Cases() => AttributeFormatTests.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Saved_and_loaded_op_gives_the_eager_bits(string opName, int sampleIndex)
    {
        var op = OpRegistry.Get(opName);
        var sample = op.SamplesUntyped().ElementAt(sampleIndex);
        var expected = Dispatcher.Call(op, sample.Attributes, sample.Inputs());

        var file = new MemoryStream();
        using (var compiled = Engine.Compile(xs => [Dispatcher.Call(op, sample.Attributes, xs)]))
        {
            compiled.Invoke(sample.Inputs());
            compiled.ReadPortableGraph(graph => KilnGraphWriter.Write(file, graph));
        }
        file.Position = 0;
        using var loaded = KilnGraphFile.Read(file, $"{opName} sample {sampleIndex}");
        for (int call = 0; call < 2; call++)
            CompileAssert.SameBits(expected, Assert.Single(loaded.Invoke(sample.Inputs())), $"{opName} [{sample.Description}] call {call}");
    }
}

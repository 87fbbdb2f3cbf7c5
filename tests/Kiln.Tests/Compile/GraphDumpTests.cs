using Kiln.Compile;
using static Kiln.Tests.Compile.CompileAssert;

namespace Kiln.Tests.Compile;

public sealed class GraphDumpTests
{
    [Fact]
    public void The_pipeline_writes_the_graph_after_tracing_and_after_each_pass()
    {
        var directory = Path.Combine(Path.GetTempPath(), "kiln-dump-" + Guid.NewGuid().ToString("N"));
        try
        {
            var graph = Trace(xs => [(xs[0] * 1.0).Exp()], Uniform(1, 3));
            PassPipeline.Run(graph, PassPipeline.Portable(new CompileOptions()), directory);
            var files = Directory.GetFiles(directory).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(5, files.Length);
            Assert.Matches(@"^function-\d+\.00-Trace\.txt$", files[0]);
            Assert.EndsWith(".01-ConstantFolding.txt", files[1]);
            Assert.EndsWith(".02-AlgebraicSimplification.txt", files[2]);
            Assert.EndsWith(".03-CommonSubexpressionElimination.txt", files[3]);
            Assert.EndsWith(".04-DeadCodeElimination.txt", files[4]);
            Assert.Contains("Mul(%in0, %c0)", File.ReadAllText(Path.Combine(directory, files[0])));
            Assert.Equal(graph.ToString(), File.ReadAllText(Path.Combine(directory, files[4])));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void KILN_DUMP_GRAPH_names_the_directory_compiles_dump_into()
    {
        var directory = Path.Combine(Path.GetTempPath(), "kiln-dump-" + Guid.NewGuid().ToString("N"));
        Environment.SetEnvironmentVariable("KILN_DUMP_GRAPH", directory);
        try
        {
            using var compiled = Engine.Compile(x => x.Erf().Softplus());
            compiled.Call(Uniform(1, 3));
        }
        finally
        {
            Environment.SetEnvironmentVariable("KILN_DUMP_GRAPH", null);
        }
        try
        {
            // Other tests (an Erf conformance sample among them) may compile while the variable is set: this
            // graph's files share one serial, and its trace is the one with Erf feeding Softplus's Where.
            var mine = Directory.GetFiles(directory)
                .GroupBy(f => Path.GetFileName(f)![..Path.GetFileName(f)!.LastIndexOf('.', Path.GetFileName(f)!.Length - 5)])
                .Single(g => g.Any(f => f.EndsWith("-Trace.txt") && File.ReadAllText(f) is var t && t.Contains("Erf(%in0)") && t.Contains("Where(")))
                .ToArray();
            Assert.Equal(8, mine.Length); // the trace, four portable passes, GemmWeightPrepacking, Conv2dFusionPass, ElementwiseFusionPass
        }
        finally
        {
            DeleteWhenQuiet(directory);
        }
    }

    /// <summary>Deletes the dump directory, trying again while a compile that started under the variable still writes into it.</summary>
    private static void DeleteWhenQuiet(string directory)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 20)
            {
                Thread.Sleep(50);
            }
        }
    }
}

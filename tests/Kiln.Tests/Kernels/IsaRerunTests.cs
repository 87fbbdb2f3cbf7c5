using Xunit.Abstractions;

namespace Kiln.Tests.Kernels;

/// <summary>
/// The kernel tests again with AVX-512, AVX2 or every hardware intrinsic switched off (DESIGN.md, Tests),
/// each in a child process. Inside a child (KILN_ISA_CHILD=1) these tests do nothing, so reruns never nest.
/// </summary>
public sealed class IsaRerunTests(ITestOutputHelper log)
{
    public static TheoryData<string> IsaVariables() => ["DOTNET_EnableAVX512", "DOTNET_EnableAVX2", "DOTNET_EnableHWIntrinsic"];

    [Theory]
    [MemberData(nameof(IsaVariables))]
    public void Kernel_tests_pass_with_an_instruction_set_switched_off(string isaVariable)
    {
        if (IsaRerun.IsChild) return;
        var result = IsaRerun.Run(isaVariable);
        log.WriteLine($"{isaVariable}=0: exit {result.ExitCode}, {result.Passed} passed, {result.Failed} failed in {result.Elapsed.TotalSeconds:F1} s");
        string Tail() => result.Output.Length > 6000 ? result.Output[^6000..] : result.Output;
        Assert.True(result.ExitCode == 0 && result.Failed == 0,
            $"kernel tests failed with {isaVariable}=0 (dotnet test <Kiln.Tests.dll> --filter \"{IsaRerun.Filter}\"):\n{Tail()}");
        Assert.True(result.Passed > 0, $"the rerun with {isaVariable}=0 ran no tests:\n{Tail()}");
    }
}

using Kiln.IO;

namespace Kiln.Tests.IO;

public sealed class PathTemplateTests
{
    private static readonly IReadOnlySet<string> WholeNumbers = new HashSet<string> { "epoch", "batch" };

    private static string Fill(string template, params (string Name, double Value)[] values)
        => new PathTemplate(template, "filePath").Format(values.ToDictionary(v => v.Name, v => v.Value), WholeNumbers);

    [Fact]
    public void Keras_example_template_formats_the_epoch_with_zeros_and_the_loss_with_two_decimals()
        => Assert.Equal("ckpt/epoch03-0.35.safetensors", Fill("ckpt/epoch{epoch:02d}-{val_loss:.2f}.safetensors", ("epoch", 3), ("val_loss", 0.34567)));

    [Theory]
    [InlineData("{loss:.4f}", 0.34567, "0.3457")]
    [InlineData("{loss:f}", 0.5, "0.500000")]
    [InlineData("{loss:e}", 0.00012345, "1.234500e-04")]
    [InlineData("{loss:.2e}", 12345.678, "1.23e+04")]
    [InlineData("{loss:.3E}", -0.5, "-5.000E-01")]
    [InlineData("{loss:g}", 0.00012345, "0.00012345")]
    [InlineData("{loss:g}", 0.00001, "1e-05")]
    [InlineData("{loss:g}", 123456789, "1.23457e+08")]
    [InlineData("{loss:.3g}", 2.5, "2.5")]
    [InlineData("{acc:.1%}", 0.875, "87.5%")]
    [InlineData("{loss}", 0.1, "0.1")]
    [InlineData("{loss}", 2, "2.0")]
    [InlineData("{loss:08.3f}", -1.5, "-001.500")]
    [InlineData("{loss:8.3f}", 1.5, "   1.500")]
    [InlineData("{loss:.2f}", double.NaN, "nan")]
    [InlineData("{loss:e}", double.PositiveInfinity, "inf")]
    public void Format_specs_print_as_python_does(string template, double value, string expected)
    {
        var name = template[1..template.IndexOfAny([':', '}'])];
        Assert.Equal(expected, Fill(template, (name, value)));
    }

    [Fact]
    public void Whole_number_fields_print_as_integers_without_a_spec()
        => Assert.Equal("e7-b12-3", Fill("e{epoch}-b{batch}-{n:d}", ("epoch", 7), ("batch", 12), ("n", 3)));

    [Fact]
    public void Width_pads_integers_with_spaces_or_zeros()
        => Assert.Equal("[  7][007]", Fill("[{epoch:3d}][{epoch:03d}]", ("epoch", 7)));

    [Fact]
    public void Doubled_braces_are_literal()
        => Assert.Equal("{run}-1", Fill("{{run}}-{epoch}", ("epoch", 1)));

    [Fact]
    public void An_unknown_field_names_itself_and_the_available_values()
    {
        var e = Assert.Throws<KilnException>(() => Fill("{epoch}-{val_acc:.2f}", ("epoch", 1), ("loss", 0.5), ("val_accuracy", 0.9)));
        Assert.Contains("{val_acc}", e.Message);
        Assert.Contains("epoch, loss, val_accuracy", e.Message);
    }

    [Fact]
    public void A_fraction_formatted_as_a_whole_number_is_refused()
    {
        var e = Assert.Throws<KilnException>(() => Fill("{loss:d}", ("loss", 0.25)));
        Assert.Contains("{loss}", e.Message);
        Assert.Contains("0.25", e.Message);
    }

    [Theory]
    [InlineData("{epoch:x}")]
    [InlineData("{epoch:>5}")]
    [InlineData("{epoch:.}")]
    [InlineData("{epoch:.2d}")]
    [InlineData("{}")]
    [InlineData("{:d}")]
    [InlineData("{epoch")]
    [InlineData("epoch}")]
    public void Malformed_templates_are_refused_when_made(string template)
    {
        var e = Assert.Throws<ArgumentException>(() => new PathTemplate(template, "filePath"));
        Assert.Contains(template, e.Message);
        Assert.Equal("filePath", e.ParamName);
    }
}

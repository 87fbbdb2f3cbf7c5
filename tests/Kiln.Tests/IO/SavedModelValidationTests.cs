using System.Buffers.Binary;
using System.Text;
using Kiln.IO;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO;

/// <summary>Malformed saved models are refused with a KilnFormatException naming the file, the entry and the field.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class SavedModelValidationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-savedmodel-bad-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private List<(string Name, byte[] Bytes)> ValidEntries()
    {
        var model = new Sequential(new Linear(4, 3), new Relu(), new Linear(3, 2));
        using var optimizer = new Sgd(model.Parameters(), lr: 0.1, momentum: 0.9);
        var path = System.IO.Path.Combine(_dir, "valid.kilnmodel");
        model.Save(path, optimizer);
        return SavedModelEntries.Read(File.ReadAllBytes(path));
    }

    private void AssertRefused(byte[] file, params string[] expected)
    {
        var path = System.IO.Path.Combine(_dir, "bad.kilnmodel");
        File.WriteAllBytes(path, file);
        var e = Assert.Throws<KilnFormatException>(() => SavedModel.Load(path, out _));
        Assert.Contains($"saved model '{path}'", e.Message);
        foreach (var part in expected) Assert.Contains(part, e.Message);
    }

    private void AssertConfigRefused(Func<string, string> edit, params string[] expected)
    {
        var entries = ValidEntries();
        var config = Encoding.UTF8.GetString(entries[0].Bytes);
        var edited = edit(config);
        Assert.NotEqual(config, edited);
        entries[0] = (entries[0].Name, Encoding.UTF8.GetBytes(edited));
        AssertRefused(SavedModelEntries.Write(entries), expected);
    }

    [Fact]
    public void A_negative_layer_setting_is_refused_naming_the_module_and_field()
        => AssertConfigRefused(c => c.Replace("\"in_features\": 4", "\"in_features\": -3"),
            "config.json", "model.0 (Linear)", "\"in_features\" is -3; expected an integer >= 1");

    [Fact]
    public void A_setting_of_the_wrong_type_is_refused()
        => AssertConfigRefused(c => c.Replace("\"bias\": true", "\"bias\": \"yes\""), "model.0 (Linear)", "\"bias\" is the string \"yes\"; expected true or false");

    [Fact]
    public void An_unknown_layer_type_is_refused_without_looking_it_up()
        => AssertConfigRefused(c => c.Replace("\"type\": \"Relu\"", "\"type\": \"System.Diagnostics.Process\""),
            "model.1", "\"type\" is \"System.Diagnostics.Process\", which is not a layer type Kiln can load");

    [Fact]
    public void An_unknown_setting_is_refused()
        => AssertConfigRefused(c => c.Replace("\"type\": \"Relu\"", "\"type\": \"Relu\", \"inplace\": true"), "model.1 (Relu)", "unknown key \"inplace\"");

    [Fact]
    public void A_newer_format_version_is_refused()
        => AssertConfigRefused(c => c.Replace("\"format_version\": 1", "\"format_version\": 2"), "\"format_version\" is 2", "newer Kiln");

    [Fact]
    public void A_layer_too_large_for_the_weights_in_the_file_is_refused_before_it_is_built()
        => AssertConfigRefused(c => c.Replace("\"out_features\": 3", "\"out_features\": 100000000"),
            "model.safetensors", "tensor \"0.weight\" is [3, 4] float32; the model's is [100000000, 4] float32");

    [Fact]
    public void A_wrong_optimizer_hyper_parameter_is_refused()
        => AssertConfigRefused(c => c.Replace("\"momentum\": 0.9", "\"momentum\": -1"), "optimizer.defaults", "\"momentum\" is -1");

    [Fact]
    public void A_missing_weight_is_refused_naming_it()
    {
        var entries = ValidEntries();
        using var weights = Safetensors.Read(new MemoryStream(entries[1].Bytes));
        var partial = new MemoryStream();
        Safetensors.Write(partial, weights.Tensors.Where(kv => kv.Key != "2.bias"));
        entries[1] = (entries[1].Name, partial.ToArray());
        AssertRefused(SavedModelEntries.Write(entries), "model.safetensors", "\"2.bias\"", "which the file lacks");
    }

    [Fact]
    public void A_missing_entry_is_refused_naming_it()
    {
        var entries = ValidEntries();
        entries.RemoveAt(1);
        AssertRefused(SavedModelEntries.Write(entries), "no entry model.safetensors");
    }

    [Fact]
    public void A_huge_declared_entry_size_is_refused_before_reading()
    {
        var file = SavedModelEntries.Write(ValidEntries());
        // The central directory record of the first entry (config.json): its uncompressed size at offset 24.
        int central = file.AsSpan().IndexOf([(byte)0x50, (byte)0x4b, (byte)0x01, (byte)0x02]);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(central + 24), 0xFFFFFFF0);
        AssertRefused(file, "entry config.json declares 4294967280 bytes, more than the whole file");
    }

    [Fact]
    public void A_flipped_bit_in_the_weights_fails_the_crc_check()
    {
        var file = SavedModelEntries.Write(ValidEntries());
        // The last float of model.safetensors: its data ends where the optimizer entry's local header begins.
        int optimizerHeader = file.AsSpan().IndexOf("optimizer.safetensors"u8) - 30;
        file[optimizerHeader - 1] ^= 0x10;
        AssertRefused(file, "entry model.safetensors fails its CRC-32 check", "damaged");
    }

    [Fact]
    public void Crc32_matches_the_standard_check_value()
        => Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));

    [Fact]
    public void A_file_that_is_not_a_zip_archive_is_refused()
        => AssertRefused(Encoding.UTF8.GetBytes("{\"format\": \"kiln.saved_model\"}"), "not a valid zip archive");

    [Fact]
    public void Entries_with_other_names_are_never_read()
    {
        var entries = ValidEntries();
        entries.Add(("../outside.json", [1, 2, 3]));
        entries.Add(("config.json/", [4]));
        var path = System.IO.Path.Combine(_dir, "extra.kilnmodel");
        File.WriteAllBytes(path, SavedModelEntries.Write(entries));
        Assert.IsType<Sequential>(SavedModel.Load(path));
        Assert.False(File.Exists(System.IO.Path.Combine(_dir, "..", "outside.json")));
    }
}

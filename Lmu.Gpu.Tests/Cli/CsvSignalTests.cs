using Lmu.Gpu.Cli.Io;
using NUnit.Framework;

namespace Lmu.Gpu.Tests.Cli;

[TestFixture]
public class CsvSignalTests
{
    private static CsvSignal Parse(string text) => CsvSignal.Parse(new StringReader(text), "in.csv");

    private static string Reject(string text) =>
        Assert.Throws<InvalidDataException>(() => Parse(text))!.Message;

    [Test]
    public void Header_IsRecognisedAndSamplesAreRowMajor()
    {
        var signal = Parse("left, right\n1,2\n3.5,-4e-1\n");
        Assert.Multiple(() =>
        {
            Assert.That(signal.Header, Is.EqualTo(new[] { "left", "right" }));
            Assert.That(signal.Steps, Is.EqualTo(2));
            Assert.That(signal.Channels, Is.EqualTo(2));
            Assert.That(signal.Samples, Is.EqualTo(new[] { 1f, 2f, 3.5f, -0.4f }));
        });
    }

    [Test]
    public void NoHeader_SingleColumn_CrLfAndTrailingBlankLines()
    {
        var signal = Parse("0.25\r\n-1\r\n\r\n\n");
        Assert.Multiple(() =>
        {
            Assert.That(signal.Header, Is.Null);
            Assert.That(signal.Steps, Is.EqualTo(2));
            Assert.That(signal.Channels, Is.EqualTo(1));
            Assert.That(signal.Samples, Is.EqualTo(new[] { 0.25f, -1f }));
        });
    }

    [Test]
    public void MalformedField_NamesLineColumnAndField()
    {
        string message = Reject("a,b\n1,2\n3,oops\n");
        Assert.That(message, Does.Contain("line 3").And.Contain("column 2").And.Contain("'oops'"));
    }

    [Test]
    public void EmptyField_IsRejectedWithItsLine()
    {
        Assert.That(Reject("1,2\n3,\n"), Does.Contain("line 2").And.Contain("empty field"));
    }

    [Test]
    public void MixedFirstLine_IsMalformedNotAHeader()
    {
        Assert.That(Reject("1,abc\n2,3\n"), Does.Contain("line 1").And.Contain("'abc'"));
    }

    [TestCase("")]
    [TestCase("\n\n  \n")]
    public void EmptyFile_IsRejected(string text)
    {
        Assert.That(Reject(text), Does.Contain("in.csv is empty"));
    }

    [Test]
    public void HeaderOnly_IsRejected()
    {
        Assert.That(Reject("a,b\n"), Does.Contain("no data rows"));
    }

    [TestCase("1,2\n3,NaN\n", 2, 2, "NaN")]
    [TestCase("Infinity\n", 1, 1, "infinite")]
    [TestCase("1,2\n-Infinity,0\n", 2, 1, "infinite")]
    [TestCase("1\n2\n1e39\n", 3, 1, "too large for float32")]
    public void NonFiniteSamples_AreNamedByLineAndColumn(string text, int line, int column, string what)
    {
        Assert.That(Reject(text), Does.Contain($"line {line}, column {column}").And.Contain(what));
    }

    [Test]
    public void RaggedRows_AreRejected()
    {
        Assert.That(Reject("1,2\n3,4\n5\n"), Does.Contain("line 3 has 1 field(s) but line 1 has 2"));
        Assert.That(Reject("a,b\n1,2,3\n"), Does.Contain("line 2 has 3 field(s) but the header has 2"));
    }

    [Test]
    public void BlankLineBetweenRows_IsRejected()
    {
        Assert.That(Reject("1\n\n2\n"), Does.Contain("line 2 is empty"));
    }

    [Test]
    public void MissingFile_IsAnIoError()
    {
        Assert.Throws<FileNotFoundException>(() => CsvSignal.Read(Path.Combine(Path.GetTempPath(), Guid.NewGuid() + ".csv")));
    }
}

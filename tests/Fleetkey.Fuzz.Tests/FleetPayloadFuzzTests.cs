using System.Buffers;
using System.Text;
using CsCheck;
using Fleetkey.Mqtt;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// The fleet provisioning payload reader (<c>$aws/certificates/create/…</c>, <c>$aws/provisioning-templates/…/provision/…</c>):
/// any bytes a device publishes, JSON or CBOR, are read or refused with a FormatException (the
/// device then gets a rejected answer), never another exception; what is read round-trips through
/// the writer the broker answers with.
/// </summary>
public sealed class FleetPayloadFuzzTests
{
    private static readonly byte[] Request = FleetProvisioningPayloads.Write(FleetProvisioningPayloads.Json,
    [
        ("certificateOwnershipToken", "token"),
        ("parameters", new Dictionary<string, string>(StringComparer.Ordinal) { ["SerialNumber"] = "SN-1", ["Region"] = "eu" }),
    ]);

    private static readonly byte[] CborRequest = FleetProvisioningPayloads.Write(FleetProvisioningPayloads.Cbor,
    [
        ("certificateOwnershipToken", "token"),
        ("parameters", new Dictionary<string, string>(StringComparer.Ordinal) { ["SerialNumber"] = "SN-1", ["Region"] = "eu" }),
    ]);

    private static readonly Gen<(string Format, byte[] Payload)> Payloads = Gen.OneOf(
        Gen.Select(Gen.Byte.Array[0, 200], b => (FleetProvisioningPayloads.Json, b)),
        Gen.Select(Gen.Byte.Array[0, 200], b => (FleetProvisioningPayloads.Cbor, b)),
        Gen.Select(Gen.Int.Array[1, 6], Gen.Byte, (edits, b) => (FleetProvisioningPayloads.Json, Mutations.Apply(Request, edits, v => (byte)(v >> 8 ^ b)))),
        Gen.Select(Gen.Int.Array[1, 6], Gen.Byte, (edits, b) => (FleetProvisioningPayloads.Cbor, Mutations.Apply(CborRequest, edits, v => (byte)(v >> 8 ^ b)))),
        Gen.Select(Mutations.Edits("{}[]\",:\\u0d8ff \u00e9", 6), edits => (FleetProvisioningPayloads.Json, Encoding.UTF8.GetBytes(Mutations.Apply(Encoding.UTF8.GetString(Request), edits)))));

    [Fact]
    public void Read_AnyPayload_ReadOrFormatException()
    {
        Fuzz.Run("mqtt.fleet-payload", Payloads, input =>
        {
            FleetProvisioningPayloads.Fields fields;
            try
            {
                fields = FleetProvisioningPayloads.Read(input.Format, new ReadOnlySequence<byte>(input.Payload));
            }
            catch (FormatException)
            {
                return;
            }

            // What was read is what the writer writes back: strings and string maps.
            var written = FleetProvisioningPayloads.Write(input.Format, [.. fields.Strings.Select(s => (s.Key, (object?)s.Value)), .. fields.Maps.Select(m => (m.Key, (object?)(IReadOnlyDictionary<string, string>)m.Value))]);
            var again = FleetProvisioningPayloads.Read(input.Format, new ReadOnlySequence<byte>(written));
            Assert.Equal(fields.Strings, again.Strings);
            Assert.Equal(fields.Maps.Keys.Order(), again.Maps.Keys.Order());
        }, cases: 20_000);
    }

    [Theory]
    [InlineData("{\"certificateOwnershipToken\":\"a\",\"certificateOwnershipToken\":\"b\"}")]
    [InlineData("{\"parameters\":{\"SerialNumber\":\"a\",\"SerialNumber\":\"b\"}}")]
    [InlineData("{\"certificateOwnershipToken\":\"\\ud800\"}")]
    public void Read_AmbiguousOrBrokenJson_Refused(string json)
    {
        Assert.Throws<FormatException>(() => FleetProvisioningPayloads.Read(FleetProvisioningPayloads.Json, new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json))));
    }

    [Theory]
    [InlineData("a2616101616102")] // {"a":1,"a":2}: a key twice
    [InlineData("a1616162ffff")] // a text string that is not UTF-8
    [InlineData("a1616aa1616b1bffffffffffffffff")] // a parameter beyond Int64
    public void Read_AmbiguousOrBrokenCbor_Refused(string hex)
    {
        Assert.Throws<FormatException>(() => FleetProvisioningPayloads.Read(FleetProvisioningPayloads.Cbor, new ReadOnlySequence<byte>(Convert.FromHexString(hex))));
    }
}

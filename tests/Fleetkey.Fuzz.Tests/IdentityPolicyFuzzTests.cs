using System.Globalization;
using System.Net;
using CsCheck;
using Fleetkey.Policies;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// <c>policies.identity</c>: identity policies (the identity dialect) with IpAddress, Numeric*, Date*
/// and ARN conditions. Generated and mutated documents parse to a document or a
/// <see cref="PolicyDocumentException"/>, nothing else, and what is accepted is decided without an
/// exception for any request context, the same whichever case the context spells its keys in. IP
/// decisions are compared with a reference that compares the prefix's bits of the address bytes;
/// numeric and date decisions with a comparison of the integers they were written from.
/// </summary>
public sealed class IdentityPolicyFuzzTests
{
    private const string Resource = "arn:aws:iot:us-east-1:000000000000:thing/sensor-1";

    // IPv4 and IPv6 text: CIDR blocks, bare addresses, and near misses .NET alone would read.
    private static readonly Gen<string> IpText = Gen.Frequency(
        (6, Gen.OneOf("127.0.0.1/32", "127.0.0.1", "10.0.0.0/8", "203.0.113.5/24", "0.0.0.0/0", "2001:db8::/32", "2001:DB8::1", "::ffff:127.0.0.1", "::/0", "::1/128")),
        (3, Gen.OneOf("10/8", "010.0.0.1", "1.2.3/24", "256.1.1.1", "10.0.0.0/33", "2001:db8::/129", "fe80::1%eth0", "[::1]", "1.2.3.4/", "/8", "", " 10.0.0.1", "1.2.3.4/08", ":::", "::ffff:010.0.0.1")),
        (2, Gen.Select(Gen.Byte.Array[4], Gen.Int[0, 40], (b, p) => $"{new IPAddress(b)}/{p}")),
        (2, Gen.Select(Gen.Byte.Array[16], Gen.Int[0, 130], (b, p) => $"{new IPAddress(b)}/{p}")));

    private static readonly Gen<string> NumberText = Gen.Frequency(
        (4, Gen.Long[-1000, 1000].Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (2, Gen.OneOf("2.5", "-0.001", "1e3", "1E-2", "+7", ".5", "5.", "79228162514264337593543950335")),
        (2, Gen.OneOf("ten", "", "1,000", "0x10", "NaN", "Infinity", "1e", "--1", "792281625142643375935439503350", "1e400")));

    private static readonly Gen<string> DateText = Gen.Frequency(
        (4, Gen.OneOf("2026-03-01T12:00:00Z", "2026-03-01", "2026-03", "2026-03-01T12:00Z", "2026-03-01T13:00:00.5+01:00", "1772366400", "0", "253402300799")),
        (2, Gen.Long[0, 4_000_000_000].Select(s => DateTimeOffset.FromUnixTimeSeconds(s).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture))),
        (2, Gen.OneOf("tomorrow", "2026-02-30", "2026-13-01", "253402300800", "-1", "2026", "2026-03-01T25:00:00Z", "2026-03-01 12:00:00", "9999999999999")));

    private static readonly Gen<string> ArnText = Gen.OneOf(
        "arn:aws:iot:*:000000000000:thing/sensor-*", "arn:aws:iot:us-east-1:000000000000:thing/sensor-1", "arn:aws:iot:*:*:*",
        "arn:aws:iot:*:*:thing/${aws:username}", "arn:aws:iot", "*", "arn:aws:iot:us-east-1:000000000000:thing/a:b:c", "ARN:aws:iot:*:*:*");

    private static readonly Gen<string> Key = Gen.OneOf("aws:SourceIp", "AWS:SOURCEIP", "aws:CurrentTime", "aws:currenttime", "aws:EpochTime", "fleetkey:MaxResults", "aws:SourceArn", "aws:UserAgent", "k");

    private static readonly Gen<string> Condition = Gen.Frequency(
        (3, Gen.Select(Gen.OneOf("IpAddress", "NotIpAddress", "IpAddressIfExists", "NotIpAddressIfExists", "ForAnyValue:IpAddress"), IpText.Array[1, 3], Cond)),
        (3, Gen.Select(Gen.OneOf("NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericGreaterThanEqualsIfExists", "ForAllValues:NumericLessThan"), NumberText.Array[1, 3], Cond)),
        (3, Gen.Select(Gen.OneOf("DateEquals", "DateNotEquals", "DateLessThan", "DateGreaterThanIfExists", "DateLessThanEquals"), DateText.Array[1, 3], Cond)),
        (2, Gen.Select(Gen.OneOf("ArnLike", "ArnEquals", "ArnNotLike", "ArnNotEqualsIfExists"), ArnText.Array[1, 3], Cond)),
        (2, Gen.Select(Gen.OneOf("StringEquals", "StringLike", "Bool", "Null", "BinaryEquals"), Gen.OneOf("true", "aws-cli/*", "x").Array[1, 2], Cond)));

    private static readonly Gen<string> Statement = Gen.Select(
        Gen.OneOf("Allow", "Deny"),
        Gen.OneOf("fleetkey:CreateAccessKey", "iot:Describe*", "*", "iot:*", "FLEETKEY:*", "greengrass:*", "s3:GetObject"),
        Gen.OneOf("*", Resource, "arn:aws:iot:*:*:thing/sensor-*", "arn:aws:fleetkey:*:*:accesskey/*"),
        Condition.Array[0, 3],
        (effect, action, resource, conditions) => $$"""{"Effect":"{{effect}}","Action":"{{action}}","Resource":"{{resource}}","Condition":{{"{" + string.Join(",", conditions) + "}"}}}""");

    private static readonly Gen<string> Document = Statement.Array[1, 4].Select(s => $$"""{"Version":"2012-10-17","Statement":[{{string.Join(",", s)}}]}""");

    // Request contexts: readable and unreadable values, keys in any case, sometimes absent.
    private static readonly Gen<Dictionary<string, string>> Context = Gen.Select(
        Gen.Frequency((4, Gen.Select(Gen.Byte.Array[4], b => new IPAddress(b).ToString())), (2, Gen.Select(Gen.Byte.Array[16], b => new IPAddress(b).ToString())), (1, IpText)).Array[0, 1],
        DateText.Array[0, 1],
        NumberText.Array[0, 1],
        ArnText.Array[0, 1],
        Gen.Bool,
        (ip, date, number, arn, upper) =>
        {
            var context = new Dictionary<string, string>(StringComparer.Ordinal);
            void Add(string key, string[] value)
            {
                if (value.Length > 0)
                {
                    context[upper ? key.ToUpperInvariant() : key] = value[0];
                }
            }

            Add("aws:SourceIp", ip);
            Add("aws:CurrentTime", date);
            Add("aws:EpochTime", number);
            Add("fleetkey:MaxResults", number);
            Add("aws:SourceArn", arn);
            return context;
        });

    [Fact]
    public void Parse_GeneratedIdentityDocuments_DocumentOrMalformedAndDecided()
    {
        Fuzz.Run("policies.identity", Gen.Select(Document, Context.Array[1, 4]), input => Check(input.Item1, input.Item2), cases: 4_000);
    }

    [Fact]
    public void Parse_MutatedIdentityDocuments_DocumentOrMalformedAndDecided()
    {
        var mutated = Gen.Select(Document, Mutations.Edits("{}[]\",:/.*?$0123456789afxTZ-+ \ud800", most: 4), Mutations.Apply);
        Fuzz.Run("policies.identity", Gen.Select(mutated, Context.Array[1, 2]), input => Check(input.Item1, input.Item2), cases: 3_000);
    }

    [Fact]
    public void Decide_IpAddress_AgreesWithMaskedBytes()
    {
        // Requests are mostly the policy's address with a bit or two flipped, so that the answer turns
        // on the prefix; IPv4 addresses are sometimes written IPv4-mapped, on either side.
        var v4 = Gen.Byte.Array[4];
        var v6 = Gen.Frequency((3, Gen.Byte.Array[16]), (1, v4.Select(Mapped)));
        var gen = Gen.SelectMany(Gen.Frequency((3, v4), (2, v6)), policy => Gen.Select(
            Gen.Int[0, policy.Length * 8],
            Gen.Bool,
            Gen.Frequency(
                (6, Gen.Int[0, (policy.Length * 8) - 1].Array[0, 2].Select(bits => Flip(policy, bits))),
                (1, v4),
                (1, v6),
                (1, Gen.Const(policy).Select(p => p.Length == 4 ? Mapped(p) : p))),
            Gen.Bool,
            Gen.OneOf("aws:SourceIp", "AWS:SourceIP"),
            (prefix, negated, request, bare, key) => (policy, prefix, negated, request, bare, key)));
        Fuzz.Run("policies.identity", gen, input =>
        {
            var (policy, prefix, negated, request, bare, key) = input;
            var range = bare && prefix == policy.Length * 8 ? new IPAddress(policy).ToString() : $"{new IPAddress(policy)}/{prefix}";
            var op = negated ? "NotIpAddress" : "IpAddress";
            var document = PolicyDocumentParser.Parse(AllowUnder(op, key, range), PolicyDialect.IdentityPolicy);
            var context = new Dictionary<string, string>(StringComparer.Ordinal) { ["aws:SourceIp"] = new IPAddress(request).ToString() };

            var expected = InRange(policy, prefix, request) != negated;

            Assert.Equal(expected, PolicyEvaluator.IsAllowed([document], "iot:DescribeThing", Resource, context));
        }, cases: 8_000);
    }

    [Fact]
    public void Decide_NumericAndDate_AgreeWithIntegerComparison()
    {
        // Values close together so that equality is common, each side written in one of its spellings.
        var gen = Gen.Select(
            Gen.Bool, Gen.Int[0, 5], Gen.Long[2, 3_000_000_000], Gen.Int[-2, 2], Gen.Int[0, 3], Gen.Int[0, 3], Gen.Bool,
            (date, comparison, value, delta, policyForm, requestForm, ifExists) => (date, comparison, value, delta, policyForm, requestForm, ifExists));
        Fuzz.Run("policies.identity", gen, input =>
        {
            var (date, comparison, value, delta, policyForm, requestForm, ifExists) = input;
            string[] names = ["Equals", "NotEquals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals"];
            var op = (date ? "Date" : "Numeric") + names[comparison] + (ifExists ? "IfExists" : "");
            var actual = value + delta;
            var key = date ? "aws:CurrentTime" : "fleetkey:MaxResults";
            var document = PolicyDocumentParser.Parse(AllowUnder(op, key, Spell(value, date, policyForm)), PolicyDialect.IdentityPolicy);
            var context = new Dictionary<string, string>(StringComparer.Ordinal) { [key] = Spell(actual, date, requestForm) };

            var expected = comparison switch
            {
                0 => actual == value,
                1 => actual != value,
                2 => actual < value,
                3 => actual <= value,
                4 => actual > value,
                _ => actual >= value,
            };

            Assert.Equal(expected, PolicyEvaluator.IsAllowed([document], "fleetkey:ListAccessKeys", Resource, context));
        }, cases: 4_000);
    }

    // A document allowing everything under one condition.
    private static string AllowUnder(string op, string key, string value) =>
        """{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{""" + $"\"{op}\":{{\"{key}\":\"{value}\"}}}}}}}}";

    [Theory]
    [InlineData("8f01:2730:3000::/37", "::ffff:3.242.234.100", false)]
    [InlineData("2a00::/13", "::ffff:42.42.42.42", false)]
    [InlineData("::ffff:3.242.0.0/112", "::ffff:3.242.234.100", true)]
    [InlineData("::ffff:3.242.0.0/112", "3.242.234.100", true)]
    [InlineData("3.242.0.0/16", "::ffff:3.242.234.100", true)]
    public void Decide_MappedAddress_ComparedInTheRangesFamily(string range, string address, bool inside)
    {
        // Found by Decide_IpAddress_AgreesWithMaskedBytes: IPNetwork.Contains read the mapped address as
        // IPv4 against an IPv6 range (dotnet/runtime#131861).
        var document = PolicyDocumentParser.Parse(AllowUnder("IpAddress", "aws:SourceIp", range), PolicyDialect.IdentityPolicy);
        var context = new Dictionary<string, string>(StringComparer.Ordinal) { ["aws:SourceIp"] = address };

        Assert.Equal(inside, PolicyEvaluator.IsAllowed([document], "iot:DescribeThing", Resource, context));
    }

    private static string Cond(string op, string[] values) =>
        $"\"{op}\":{{\"{KeyFor(op)}\":[{string.Join(",", values.Select(v => "\"" + v.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\""))}]}}";

    private static string KeyFor(string op) => op switch
    {
        _ when op.Contains("Ip", StringComparison.Ordinal) => "aws:SourceIp",
        _ when op.Contains("Date", StringComparison.Ordinal) => "aws:CurrentTime",
        _ when op.Contains("Numeric", StringComparison.Ordinal) => "fleetkey:MaxResults",
        _ when op.Contains("Arn", StringComparison.Ordinal) => "AWS:SourceArn",
        _ => "aws:UserAgent",
    };

    private static void Check(string json, Dictionary<string, string>[] contexts)
    {
        PolicyDocument document;
        try
        {
            document = PolicyDocumentParser.Parse(json, PolicyDialect.IdentityPolicy);
        }
        catch (PolicyDocumentException e)
        {
            Assert.StartsWith("Policy document is Malformed: ", e.Message, StringComparison.Ordinal);
            Assert.True(e.Message.Length <= 64_000, $"a {e.Message.Length}-character message");
            Assert.DoesNotContain("AWS IoT policies", e.Message, StringComparison.Ordinal);
            return;
        }

        foreach (var action in new[] { "fleetkey:CreateAccessKey", "iot:DescribeThing" })
        {
            foreach (var context in contexts)
            {
                var decision = PolicyEvaluator.Decide([document], action, Resource, context);
                Assert.Equal(decision == PolicyDecision.Allowed, PolicyEvaluator.IsAllowed([document], action, Resource, context));

                // Condition key names ignore case, whatever the dictionary's comparer.
                var ignoreCase = new Dictionary<string, string>(context, StringComparer.OrdinalIgnoreCase);
                Assert.Equal(decision, PolicyEvaluator.Decide([document], action, Resource, ignoreCase));
                var lower = context.ToDictionary(p => p.Key.ToLowerInvariant(), p => p.Value, StringComparer.Ordinal);
                Assert.Equal(decision, PolicyEvaluator.Decide([document], action, Resource, lower));
            }
        }
    }

    // Reference: the same family (an IPv4-mapped IPv6 address read as its IPv4 address, and an IPv4
    // address as its mapped form against an IPv6 block), then the first `prefix` bits equal.
    private static bool InRange(byte[] policy, int prefix, byte[] request)
    {
        if (policy.Length == 4 && request.Length == 16 && IsMapped(request))
        {
            request = request[12..];
        }
        else if (policy.Length == 16 && request.Length == 4)
        {
            request = Mapped(request);
        }

        if (policy.Length != request.Length)
        {
            return false;
        }

        for (var bit = 0; bit < prefix; bit++)
        {
            var mask = 0x80 >> (bit % 8);
            if ((policy[bit / 8] & mask) != (request[bit / 8] & mask))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsMapped(byte[] address) => address.AsSpan(0, 10).IndexOfAnyExcept((byte)0) < 0 && address[10] == 0xff && address[11] == 0xff;

    private static byte[] Mapped(byte[] v4) => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, .. v4];

    private static byte[] Flip(byte[] address, int[] bits)
    {
        var flipped = (byte[])address.Clone();
        foreach (var bit in bits)
        {
            flipped[bit / 8] ^= (byte)(0x80 >> (bit % 8));
        }

        return flipped;
    }

    // A number as an integer, a decimal, with an exponent or a sign; a date as epoch seconds or ISO 8601 in UTC or with an offset.
    private static string Spell(long value, bool date, int form)
    {
        if (!date)
        {
            return form switch
            {
                0 => value.ToString(CultureInfo.InvariantCulture),
                1 => value.ToString(CultureInfo.InvariantCulture) + ".000",
                2 => value.ToString(CultureInfo.InvariantCulture) + "e0",
                _ => "+" + value.ToString(CultureInfo.InvariantCulture),
            };
        }

        var instant = DateTimeOffset.FromUnixTimeSeconds(value);
        return form switch
        {
            0 => value.ToString(CultureInfo.InvariantCulture),
            1 => instant.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            2 => instant.ToOffset(TimeSpan.FromHours(-5)).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
            _ => instant.ToOffset(TimeSpan.FromMinutes(330)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
        };
    }
}

using System.Diagnostics;
using System.Globalization;
using Fleetkey.Policies;

// The policy evaluator's cost per decision (ns of CPU), on typical and adversarial inputs: the broker
// evaluates on every CONNECT, PUBLISH, SUBSCRIBE and delivery. Run:
//   dotnet run -c Release --project bench/Fleetkey.PolicyBench
// Results and what they were compared with: BENCHMARKS.md, "Policy evaluation".
const string Arn = "arn:aws:iot:us-east-1:123456789012";
var device = new Dictionary<string, string>(StringComparer.Ordinal)
{
    ["iot:ClientId"] = "sensor-0001",
    ["iot:Connection.Thing.ThingName"] = "sensor-0001",
};

var typical = Parse($$"""
{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"{{Arn}}:client/${iot:Connection.Thing.ThingName}"},
 {"Effect":"Allow","Action":"iot:Publish","Resource":["{{Arn}}:topic/sensors/${iot:Connection.Thing.ThingName}/*","{{Arn}}:topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"]},
 {"Effect":"Allow","Action":["iot:Subscribe","iot:Receive"],"Resource":["{{Arn}}:topicfilter/commands/${iot:ClientId}/*","{{Arn}}:topic/commands/${iot:ClientId}/*"]},
 {"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/admin/*"}]}
""");

var stars = string.Concat(Enumerable.Repeat("a*", 600));
var starry = Parse($$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/{{stars}}b"}]}""");
var longSegment = Parse($$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/*{{new string('a', 1900)}}b*"}]}""");
var questions = Parse($$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/*{{string.Concat(Enumerable.Repeat("a?", 900))}}b*"}]}""");
var variables = Parse($$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/*{{string.Concat(Enumerable.Repeat("${iot:ClientId}", 120))}}b"}]}""");
var longClient = new Dictionary<string, string>(StringComparer.Ordinal) { ["iot:ClientId"] = new string('a', 128) };

string Topic(int length) => $"{Arn}:topic/" + new string('a', length);

Console.WriteLine("case\tns/decision");
Measure("typical publish allowed", typical, "iot:Publish", $"{Arn}:topic/sensors/sensor-0001/temperature", device);
Measure("typical publish denied (other device)", typical, "iot:Publish", $"{Arn}:topic/sensors/sensor-0002/temperature", device);
Measure("typical connect", typical, "iot:Connect", $"{Arn}:client/sensor-0001", device);
Measure("typical receive", typical, "iot:Receive", $"{Arn}:topic/commands/sensor-0001/reboot", device);
foreach (var n in new[] { 256, 4096, 65535 })
{
    Measure($"a*a*…b (600 stars) vs {n}-char topic", starry, "iot:Publish", Topic(n), device);
    Measure($"*a{{1900}}b* vs {n}-char topic", longSegment, "iot:Publish", Topic(n), device);
    Measure($"*(a?){{900}}b* vs {n}-char topic", questions, "iot:Publish", Topic(n), device);
    Measure($"*${{iot:ClientId}}×120 b, 128-char client id, vs {n}-char topic", variables, "iot:Publish", Topic(n), longClient);
}

static PolicyDocument Parse(string json) => PolicyDocumentParser.Parse(json);

// CPU time, not wall time: the machine is shared, and a preempted run would count others' work.
static void Measure(string name, PolicyDocument policy, string action, string resource, IReadOnlyDictionary<string, string> variables)
{
    PolicyDocument[] policies = [policy];
    _ = PolicyEvaluator.Decide(policies, action, resource, variables);
    var process = Process.GetCurrentProcess();
    var start = process.TotalProcessorTime;
    long runs = 0;
    var batch = 1;
    TimeSpan spent;
    do
    {
        for (var i = 0; i < batch; i++)
        {
            _ = PolicyEvaluator.Decide(policies, action, resource, variables);
        }

        runs += batch;
        batch = Math.Min(batch * 2, 1 << 16);
        process.Refresh();
        spent = process.TotalProcessorTime - start;
    }
    while (spent < TimeSpan.FromMilliseconds(500));

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}\t{spent.TotalNanoseconds / runs:F0}"));
}

using Xunit;

namespace Fleetkey.Templates.Tests;

/// <summary>
/// The interpreter's table: each row is a template and parameters with either the whole expected
/// plan (rendered by <see cref="PlanText"/>) or the exact set of expected errors (path + message
/// fragment, and no others), in the style of step-ca's sign_options_test.
/// </summary>
public sealed class TemplateEngineTests
{
    private const string CertId = "cd82bb924d4c6ccbb14986dcb4f40f30d892cc6b3ce7ad5008ed6542eea2b049";
    private const string TName = "Resources.thing.Properties.ThingName";
    private const string TProps = "Resources.thing.Properties";

    // The seed's template, verbatim, as the repository keeps it (src/Fleetkey.Client/register-thing-template-body.json,
    // embedded in this assembly by the project file). Before Cases: static initializers run in order.
    private static readonly string SeedTemplate = ReadSeedTemplate();

    // The developer guide's fleet-provisioning example with the BillingGroup and ThingName it lacks
    // for Fleetkey adjusted; Refs an undeclared AWS::IoT::Certificate::Id as the guide does.
    private const string FleetTemplate = """
        {
            "Parameters" : {
                "SerialNumber": { "Type": "String" },
                "DeviceLocation": { "Type": "String" }
            },
            "Mappings": {
                "LocationTable": { "Seattle": { "LocationUrl": "https://example.aws" } }
            },
            "Resources" : {
                "thing" : {
                    "Type" : "AWS::IoT::Thing",
                    "Properties" : {
                        "ThingName": {"Ref": "SerialNumber"},
                        "AttributePayload" : { "version" : "v1", "serialNumber" : "serialNumber" },
                        "ThingTypeName" : {"Fn::Join":["",["ThingPrefix_",{"Ref":"SerialNumber"}]]},
                        "ThingGroups" : ["v1-lightbulbs", "WA"]
                    },
                    "OverrideSettings" : {
                        "AttributePayload" : "MERGE",
                        "ThingTypeName" : "REPLACE",
                        "ThingGroups" : "DO_NOTHING"
                    }
                },
                "certificate" : {
                    "Type" : "AWS::IoT::Certificate",
                    "Properties" : {
                        "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"},
                        "Status" : "Active"
                    }
                },
                "policy" : {
                    "Type" : "AWS::IoT::Policy",
                    "Properties" : {
                        "PolicyDocument" : {
                            "Version": "2012-10-17",
                            "Statement": [{
                                "Effect": "Allow",
                                "Action":["iot:Publish"],
                                "Resource": ["arn:aws:iot:us-east-1:123456789012:topic/+/bar"]
                            }]
                        }
                    }
                }
            },
            "DeviceConfiguration": {
                "FallbackUrl": "https://www.example.com/test-site",
                "LocationUrl": { "Fn::FindInMap": ["LocationTable",{"Ref": "DeviceLocation"}, "LocationUrl"] }
            }
        }
        """;

    private const string CompactFleetPolicy = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/+/bar"]}]}""";

    // The guide's escaped-string policy document, kept verbatim; its SHA-1 computed independently.
    private const string GuidePolicyDocument = """{ \"Version\": \"2012-10-17\", \"Statement\": [{ \"Effect\": \"Allow\", \"Action\":[\"iot:Publish\"], \"Resource\": [\"arn:aws:iot:us-east-1:123456789012:topic/foo/bar\"] }] }""";
    private const string GuidePolicyHash = "21B1CF65A1A46C3D343D506A9A8036930B86238B";
    private const string CompactFleetPolicyHash = "8D70F01AB8AF454CDDEFE0AB69688BD044229B7C";

    private sealed record Case(
        string Name,
        string Template,
        Dictionary<string, string>? Parameters = null,
        string? Plan = null,
        (string Path, string Fragment)[]? Errors = null);

    private static Dictionary<string, string> P(params string[] pairs)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < pairs.Length; i += 2)
        {
            parameters[pairs[i]] = pairs[i + 1];
        }

        return parameters;
    }

    /// <summary>A template with one thing; <paramref name="sections"/> are extra top-level members.</summary>
    private static string Thing(string properties, string sections = "", string thingExtra = "") => $$"""
        { {{sections}}{{(sections.Length > 0 ? "," : "")}}
          "Resources": { "thing": { "Type": "AWS::IoT::Thing", "Properties": {{properties}} {{thingExtra}} } } }
        """;

    private static string Resources(string resources, string sections = "") => $$"""
        { {{sections}}{{(sections.Length > 0 ? "," : "")}} "Resources": { {{resources}} } }
        """;

    private const string SerialParam = """ "Parameters": { "Serial": { "Type": "String" } } """;

    private static string ThingPlan(string name, string type = "-", string attributes = "-", string groups = "-", string overrides = "-/-/-") =>
        $"thing thing name={name} type={type} attributes={attributes} groups={groups} override={overrides}";

    private static readonly Case[] Cases =
    [
        // The seed, as register-thing.js sends it.
        new("seed template",
            SeedTemplate,
            P("ThingName", "MyThing", "SerialNumber", "SN-0001", "CertificateId", CertId),
            Plan: ThingPlan("MyThing", "NewDevice", "{serialNumber=SN-0001}", "[NewDevices]") + "\n" +
                  $"certificate certificate id={CertId} pem=- ca=- csr=- status=ACTIVE override=-\n" +
                  "policy policy name=DefaultNewDevicePolicy document=-"),
        new("seed template, extra parameters ignored",
            SeedTemplate,
            P("ThingName", "MyThing", "SerialNumber", "SN-0001", "CertificateId", CertId, "Unused", "x"),
            Plan: ThingPlan("MyThing", "NewDevice", "{serialNumber=SN-0001}", "[NewDevices]") + "\n" +
                  $"certificate certificate id={CertId} pem=- ca=- csr=- status=ACTIVE override=-\n" +
                  "policy policy name=DefaultNewDevicePolicy document=-"),
        new("seed template, missing parameters each reported at its Ref",
            SeedTemplate,
            P("ThingName", "MyThing"),
            Errors: [(TProps + ".AttributePayload.serialNumber.Ref", "parameter SerialNumber has no value"),
                     ("Resources.certificate.Properties.CertificateId.Ref", "parameter CertificateId has no value")]),
        new("guide fleet example: Mappings, FindInMap, Join, pseudo-parameter, inline policy document",
            FleetTemplate,
            P("SerialNumber", "SN1", "DeviceLocation", "Seattle", "AWS::IoT::Certificate::Id", CertId),
            Plan: ThingPlan("SN1", "ThingPrefix_SN1", "{version=v1,serialNumber=serialNumber}", "[v1-lightbulbs,WA]", "Merge/Replace/DoNothing") + "\n" +
                  $"certificate certificate id={CertId} pem=- ca=- csr=- status=ACTIVE override=-\n" +
                  $"policy policy name={CompactFleetPolicyHash} document={CompactFleetPolicy}\n" +
                  "config FallbackUrl=https://www.example.com/test-site\n" +
                  "config LocationUrl=https://example.aws"),
        new("guide fleet example: FindInMap with an unknown key, pseudo-parameter not passed",
            FleetTemplate,
            P("SerialNumber", "SN1", "DeviceLocation", "Paris"),
            Errors: [("Resources.certificate.Properties.CertificateId.Ref", "parameter AWS::IoT::Certificate::Id has no value"),
                     ("DeviceConfiguration.LocationUrl.Fn::FindInMap[1]", "has no key 'Paris'")]),

        // Parameters.
        new("Default used when the parameter is not passed",
            Thing("""{ "ThingName": "t", "ThingGroups": [{"Ref": "Location"}] }""", """ "Parameters": { "Location": { "Type": "String", "Default": "WA" } } """),
            Plan: ThingPlan("t", groups: "[WA]")),
        new("a passed parameter wins over its Default",
            Thing("""{ "ThingName": "t", "ThingGroups": [{"Ref": "Location"}] }""", """ "Parameters": { "Location": { "Type": "String", "Default": "WA" } } """),
            P("Location", "OR"),
            Plan: ThingPlan("t", groups: "[OR]")),
        new("Ref to an undeclared parameter",
            Thing("""{ "ThingName": {"Ref": "Nope"} }"""),
            P("Nope", "given-but-undeclared"),
            Errors: [(TName + ".Ref", "unknown parameter 'Nope'")]),
        new("Ref argument must be a string",
            Thing("""{ "ThingName": {"Ref": ["Serial"]} }""", SerialParam),
            Errors: [(TName + ".Ref", "parameter name as a string literal")]),
        new("parameter types other than String",
            Thing("""{ "ThingName": {"Ref": "N"} }""", """ "Parameters": { "N": { "Type": "Number" }, "S": { "Type": "string" }, "M": { "Default": "x" } } """),
            Errors: [("Parameters.N.Type", "not supported"), ("Parameters.S.Type", "not supported"), ("Parameters.M.Type", "must declare")]),
        new("a parameter Default must be a string; unknown parameter attributes",
            Thing("""{ "ThingName": "t" }""", """ "Parameters": { "A": { "Type": "String", "Default": 5 }, "B": { "Type": "String", "AllowedValues": ["x"] } } """),
            Errors: [("Parameters.A.Default", "string literal"), ("Parameters.B.AllowedValues", "unknown parameter attribute")]),
        new("parameter values longer than 4096 characters",
            Thing("""{ "ThingName": {"Ref": "Serial"} }""", SerialParam),
            P("Serial", new string('a', 4097)),
            Errors: [("$parameters.Serial", "at most 4096")]),
        new("parameter names longer than 2048 characters",
            Thing("""{ "ThingName": "t" }"""),
            P(new string('k', 2049), "v"),
            Errors: [("$parameters." + new string('k', 64) + "…", "at most 2048")]),
        new("JITP pseudo-parameter declared and passed",
            Thing("""{ "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"} }""", """ "Parameters": { "AWS::IoT::Certificate::CommonName": { "Type": "String" } } """),
            P("AWS::IoT::Certificate::CommonName", "device-42"),
            Plan: ThingPlan("device-42")),
        new("other AWS pseudo-parameters are not known",
            Thing("""{ "ThingName": {"Ref": "AWS::Region"} }"""),
            P("AWS::Region", "eu-west-1"),
            Errors: [(TName + ".Ref", "unknown parameter 'AWS::Region'")]),

        // Intrinsic functions.
        new("Fn::Join",
            Thing("""{ "ThingName": {"Fn::Join": ["-", ["dev", {"Ref": "Serial"}, "x"]]} }""", SerialParam),
            P("Serial", "42"),
            Plan: ThingPlan("dev-42-x")),
        new("Fn::Join with an empty delimiter and a computed list",
            Thing("""{ "ThingName": {"Fn::Join": ["", {"Fn::Split": [",", "a,b,c"]}]} }"""),
            Plan: ThingPlan("abc")),
        new("Fn::Split then Fn::Select, index as number and as string",
            Thing("""{ "ThingName": {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, "ThingTypeName": {"Fn::Select": ["2", {"Fn::Split": [",", "a,b,c"]}]} }"""),
            Plan: ThingPlan("b", "c")),
        new("Fn::Split keeps empty pieces",
            Thing("""{ "ThingName": "t", "AttributePayload": { "n": {"Fn::Join": ["|", {"Fn::Split": [",", "a,,b"]}]} } }"""),
            Errors: [(TProps + ".AttributePayload.n", "must match")]),
        new("Fn::Select on a literal list, after AWS::NoValue elements are dropped",
            Thing("""{ "ThingName": {"Fn::Select": [1, [{"Ref": "AWS::NoValue"}, "first", "second"]]} }"""),
            Plan: ThingPlan("second")),
        new("Fn::Select index out of range, negative, not an integer",
            Thing("""{ "ThingName": {"Fn::Select": [2, ["a", "b"]]}, "ThingTypeName": {"Fn::Select": [-1, ["a"]]}, "AttributePayload": { "x": {"Fn::Select": ["1.5", ["a", "b"]]} } }"""),
            Errors: [(TName + ".Fn::Select[0]", "index 2 is out of range for a list of 2"),
                     (TProps + ".ThingTypeName.Fn::Select[0]", "index -1 is out of range"),
                     (TProps + ".AttributePayload.x.Fn::Select[0]", "'1.5' is not an integer")]),
        new("Fn::Sub with a parameter, a variable map and the ${!Literal} escape",
            Thing("""{ "ThingName": {"Fn::Sub": "dev-${Serial}"} }""", SerialParam + """
                , "DeviceConfiguration": { "Url": {"Fn::Sub": ["https://${Host}/${Serial}/${!Path}", {"Host": {"Fn::Join": [".", ["iot", "example"]]}}]} }
                """),
            P("Serial", "42"),
            Plan: ThingPlan("dev-42") + "\nconfig Url=https://iot.example/42/${Path}"),
        new("Fn::Sub with an unknown variable and a resource attribute",
            Thing("""{ "ThingName": {"Fn::Sub": "${Nope}"}, "ThingTypeName": {"Fn::Sub": "${thing.Arn}"} }"""),
            Errors: [(TName + ".Fn::Sub", "unknown parameter 'Nope'"), (TProps + ".ThingTypeName.Fn::Sub", "Fn::GetAtt is not supported")]),
        new("Fn::FindInMap returning a list, keys computed",
            Thing("""{ "ThingName": "t", "ThingGroups": {"Fn::FindInMap": ["Groups", {"Ref": "Region"}, "names"]} }""",
                """ "Parameters": { "Region": { "Type": "String" } }, "Mappings": { "Groups": { "eu": { "names": ["g1", "g2"] } } } """),
            P("Region", "eu"),
            Plan: ThingPlan("t", groups: "[g1,g2]")),
        new("Fn::FindInMap: unknown map, unknown second-level key",
            Thing("""{ "ThingName": {"Fn::FindInMap": ["Nope", "a", "b"]}, "ThingTypeName": {"Fn::FindInMap": ["M", "a", "zz"]} }""",
                """ "Mappings": { "M": { "a": { "b": "c" } } } """),
            Errors: [(TName + ".Fn::FindInMap[0]", "mapping 'Nope' is not declared"), (TProps + ".ThingTypeName.Fn::FindInMap[2]", "no key 'a'.'zz'")]),
        new("Mappings hold literals only",
            Thing("""{ "ThingName": "t" }""", """ "Mappings": { "M": { "a": { "b": {"Ref": "X"}, "c": [1, {"Ref": "X"}] } } } """),
            Errors: [("Mappings.M.a.b", "may not contain parameters or intrinsic functions"), ("Mappings.M.a.c[1]", "only string literals")]),
        new("nesting: Join of Select of Split of Sub, and FindInMap with a Ref key",
            Thing("""
                { "ThingName": {"Fn::Join": ["_", [
                    {"Fn::Select": [0, {"Fn::Split": ["-", {"Fn::Sub": "${Serial}-rest"}]}]},
                    {"Fn::FindInMap": ["M", {"Ref": "Region"}, "suffix"]} ]]} }
                """,
                """ "Parameters": { "Serial": { "Type": "String" }, "Region": { "Type": "String", "Default": "eu" } }, "Mappings": { "M": { "eu": { "suffix": "EU" } } } """),
            P("Serial", "abc"),
            Plan: ThingPlan("abc_EU")),
        new("unsupported intrinsic functions",
            Thing("""{ "ThingName": {"Fn::GetAtt": ["thing", "Arn"]}, "ThingTypeName": {"Fn::Base64": "x"} }"""),
            Errors: [(TName + ".Fn::GetAtt", "not supported"), (TProps + ".ThingTypeName.Fn::Base64", "not supported")]),
        new("wrong argument shapes",
            Thing("""{ "ThingName": {"Fn::Join": ["-"]}, "ThingTypeName": {"Fn::Select": "0"}, "AttributePayload": { "a": {"Fn::Split": [",", "x", "y"]}, "b": {"Fn::Sub": 5} } }"""),
            Errors: [(TName + ".Fn::Join", "takes 2 arguments"), (TProps + ".ThingTypeName.Fn::Select", "takes a list"),
                     (TProps + ".AttributePayload.a.Fn::Split", "not 3"), (TProps + ".AttributePayload.b.Fn::Sub", "Fn::Sub takes a string")]),

        // Type errors.
        new("Fn::Join of a non-list",
            Thing("""{ "ThingName": {"Fn::Join": ["-", "abc"]} }"""),
            Errors: [(TName + ".Fn::Join[1]", "expected a list, found a string")]),
        new("a list where a string is needed",
            Thing("""{ "ThingName": ["a", "b"] }"""),
            Errors: [(TName, "expected a string, found a list")]),
        new("an object where a string is needed",
            Thing("""{ "ThingName": "t", "ThingTypeName": { "a": "b" } }"""),
            Errors: [(TProps + ".ThingTypeName", "expected a string, found an object")]),
        new("Fn::Join element that is a list",
            Thing("""{ "ThingName": {"Fn::Join": ["-", ["a", ["b"]]]} }"""),
            Errors: [(TName + ".Fn::Join[1][1]", "expected a string, found a list")]),
        new("Fn::Split of a list",
            Thing("""{ "ThingName": {"Fn::Select": [0, {"Fn::Split": [",", ["a"]]}]} }"""),
            Errors: [(TName + ".Fn::Select[1].Fn::Split[1]", "expected a string, found a list")]),
        new("null values",
            Thing("""{ "ThingName": null }"""),
            Errors: [(TName, "null is not a valid value")]),
        new("number and boolean literals read as their text",
            Thing("""{ "ThingName": "t", "AttributePayload": { "n": 12, "b": true } }"""),
            Plan: ThingPlan("t", attributes: "{n=12,b=true}")),

        // Conditions.
        new("Fn::If on Fn::Equals, Fn::Not, Fn::And, Fn::Or and condition references; Condition on a resource",
            Resources("""
                "thing": { "Type": "AWS::IoT::Thing", "Properties": {
                    "ThingName": "t",
                    "ThingTypeName": {"Fn::If": ["IsProd", "Prod", "Dev"]},
                    "AttributePayload": {
                        "notProd": {"Fn::If": ["NotProd", "yes", "no"]},
                        "both": {"Fn::If": ["ProdAndEu", "yes", "no"]},
                        "either": {"Fn::If": ["ProdOrEu", "yes", "no"]} } } },
                "prodPolicy": { "Type": "AWS::IoT::Policy", "Condition": "IsProd", "Properties": { "PolicyName": "Prod" } },
                "devPolicy": { "Type": "AWS::IoT::Policy", "Condition": "NotProd", "Properties": { "PolicyName": "Dev" } }
                """,
                """
                "Parameters": { "Stage": { "Type": "String" }, "Region": { "Type": "String" } },
                "Conditions": {
                    "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
                    "IsEu": {"Fn::Equals": ["eu", {"Ref": "Region"}]},
                    "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
                    "ProdAndEu": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "IsEu"}]},
                    "ProdOrEu": {"Fn::Or": [{"Condition": "IsProd"}, {"Fn::Equals": [{"Ref": "Region"}, "eu"]}]} }
                """),
            P("Stage", "prod", "Region", "us"),
            Plan: ThingPlan("t", "Prod", "{notProd=no,both=no,either=yes}") + "\npolicy prodPolicy name=Prod document=-"),
        new("Fn::If false branch; excluded resource may use absent parameters",
            Resources("""
                "thing": { "Type": "AWS::IoT::Thing", "Properties": { "ThingName": {"Fn::If": ["HasName", {"Ref": "Name"}, "fallback"]} } },
                "certificate": { "Type": "AWS::IoT::Certificate", "Condition": "HasName", "Properties": { "CertificateId": {"Ref": "Name"} } }
                """,
                """
                "Parameters": { "Name": { "Type": "String" }, "Flag": { "Type": "String", "Default": "off" } },
                "Conditions": { "HasName": {"Fn::Equals": [{"Ref": "Flag"}, "on"]} }
                """),
            Plan: ThingPlan("fallback")),
        new("Fn::If with AWS::NoValue drops a property, an attribute and a list element",
            Thing("""
                { "ThingName": "t",
                  "ThingTypeName": {"Fn::If": ["No", "Typed", {"Ref": "AWS::NoValue"}]},
                  "AttributePayload": { "keep": "1", "drop": {"Fn::If": ["No", "x", {"Ref": "AWS::NoValue"}]} },
                  "ThingGroups": ["a", {"Fn::If": ["No", "b", {"Ref": "AWS::NoValue"}]}, "c"] }
                """,
                """ "Conditions": { "No": {"Fn::Equals": ["1", "2"]} } """),
            Plan: ThingPlan("t", attributes: "{keep=1}", groups: "[a,c]")),
        new("AWS::NoValue for a whole AttributePayload leaves it absent, not empty",
            Thing("""{ "ThingName": "t", "AttributePayload": {"Ref": "AWS::NoValue"}, "ThingGroups": [] }"""),
            Plan: ThingPlan("t", groups: "[]")),
        new("empty AttributePayload is kept as empty",
            Thing("""{ "ThingName": "t", "AttributePayload": {} }"""),
            Plan: ThingPlan("t", attributes: "{}")),
        new("AWS::NoValue where a string is needed",
            Thing("""{ "ThingName": {"Fn::Join": [{"Ref": "AWS::NoValue"}, ["a"]]} }"""),
            Errors: [(TName + ".Fn::Join[0]", "AWS::NoValue may only stand for a whole property")]),
        new("AWS::NoValue for ThingName leaves it missing",
            Thing("""{ "ThingName": {"Ref": "AWS::NoValue"} }"""),
            Errors: [(TName, "ThingName is required")]),
        new("condition cycle reported once, at the reference that closes it",
            Resources("""
                "thing": { "Type": "AWS::IoT::Thing", "Condition": "C", "Properties": { "ThingName": {"Fn::If": ["A", "x", "y"]} } }
                """,
                """ "Conditions": { "A": {"Condition": "B"}, "B": {"Fn::Not": [{"Condition": "A"}]}, "C": {"Fn::Or": [{"Condition": "A"}, {"Fn::Equals": ["1", "1"]}]} } """),
            Errors: [("Conditions.B.Fn::Not[0].Condition", "condition cycle: A -> B -> A")]),
        new("a condition that refers to itself",
            Thing("""{ "ThingName": "t" }""", """ "Conditions": { "Self": {"Fn::And": [{"Condition": "Self"}, {"Fn::Equals": ["a", "a"]}]} } """),
            Errors: [("Conditions.Self.Fn::And[0].Condition", "condition cycle: Self -> Self")]),
        new("unknown conditions in Fn::If, on a resource and in a condition",
            Thing("""{ "ThingName": {"Fn::If": ["Nope", "a", "b"]} }""", """ "Conditions": { "A": {"Condition": "Missing"} } """, """, "Condition": "Gone" """),
            Errors: [("Conditions.A.Condition", "unknown condition 'Missing'"), ("Resources.thing.Condition", "unknown condition 'Gone'")]),
        new("Fn::If naming an unknown condition",
            Thing("""{ "ThingName": {"Fn::If": ["Nope", "a", "b"]} }"""),
            Errors: [(TName + ".Fn::If[0]", "unknown condition 'Nope'")]),
        new("malformed conditions and condition functions outside Conditions",
            Thing("""{ "ThingName": {"Fn::Equals": ["a", "a"]} }""",
                """ "Conditions": { "A": {"Fn::And": [{"Fn::Equals": ["a", "a"]}]}, "B": "yes", "C": {"Fn::Equals": ["a"]} } """),
            Errors: [("Conditions.A.Fn::And", "list of 2 to 10"), ("Conditions.B", "a condition must be"), ("Conditions.C.Fn::Equals", "takes 2 arguments"),
                     (TName + ".Fn::Equals", "only be used in the Conditions section")]),
        new("a condition Ref with no value is reported once even when used",
            Thing("""{ "ThingName": {"Fn::If": ["A", "x", "y"]} }""",
                """ "Parameters": { "Stage": { "Type": "String" } }, "Conditions": { "A": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]} } """),
            Errors: [("Conditions.A.Fn::Equals[0].Ref", "parameter Stage has no value")]),

        // Template structure.
        new("unknown top-level section, missing Resources",
            """{ "Outputs": {}, "Parameters": {} }""",
            Errors: [("Outputs", "unknown template section"), ("Resources", "Resources section is required")]),
        new("template must be an object",
            """["Resources"]""",
            Errors: [("", "must be a JSON object")]),
        new("template must be JSON",
            """{ "Resources": { """,
            Errors: [("", "not valid JSON")]),
        new("duplicate keys are rejected",
            """{ "Resources": {}, "Resources": {} }""",
            Errors: [("", "not valid JSON")]),
        new("a lone surrogate escape is rejected, not thrown",
            """{ "Resources": { "t": { "Type": "AWS::IoT::Thing", "Properties": { "ThingName": "\ud800" } } } }""",
            Errors: [("", "lone surrogate escape")]),
        new("empty template body",
            "",
            Errors: [("", "empty")]),
        new("empty Resources yields an empty plan",
            """{ "Resources": {} }""",
            Plan: ""),

        // Resources.
        new("unknown resource type, missing type, unknown resource attribute",
            Resources("""
                "role": { "Type": "AWS::IAM::Role", "Properties": {} },
                "nothing": { "Properties": {} },
                "thing": { "Type": "AWS::IoT::Thing", "Properties": { "ThingName": "t" }, "DependsOn": "role" }
                """),
            Errors: [("Resources.role.Type", "unknown resource type \"AWS::IAM::Role\""), ("Resources.nothing.Type", "must declare its Type"),
                     ("Resources.thing.DependsOn", "unknown resource attribute")]),
        new("two things",
            Resources("""
                "thing": { "Type": "AWS::IoT::Thing", "Properties": { "ThingName": "a" } },
                "thing2": { "Type": "AWS::IoT::Thing", "Properties": { "ThingName": "b" } }
                """),
            Errors: [("Resources.thing2", "only one AWS::IoT::Thing; 'thing' is already declared")]),
        new("two certificates",
            Resources($$"""
                "c1": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificateId": "{{CertId}}" } },
                "c2": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificateId": "{{CertId}}" } }
                """),
            Errors: [("Resources.c2", "only one AWS::IoT::Certificate")]),
        new("two things where a condition excludes one",
            Resources("""
                "thing": { "Type": "AWS::IoT::Thing", "Condition": "No", "Properties": { "ThingName": "a" } },
                "other": { "Type": "AWS::IoT::Thing", "Properties": { "ThingName": "b" } }
                """, """ "Conditions": { "No": {"Fn::Equals": ["1", "2"]} } """),
            Plan: "thing other name=b type=- attributes=- groups=- override=-/-/-"),
        new("several policies",
            Resources("""
                "p1": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyName": "One" } },
                "p2": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyName": "Two_+=,.@-" } }
                """),
            Plan: "policy p1 name=One document=-\npolicy p2 name=Two_+=,.@- document=-"),

        // Thing properties.
        new("thing names, attributes and groups checked against AWS patterns",
            Thing($$"""
                { "ThingName": "bad name", "ThingTypeName": "{{new string('t', 129)}}",
                  "AttributePayload": { "bad key": "v", "k": "bad value", "long": "{{new string('v', 801)}}" },
                  "ThingGroups": ["ok", "bad/group"] }
                """),
            Errors: [(TName, "must match [a-zA-Z0-9:_-]+"), (TProps + ".ThingTypeName", "1 to 128"),
                     (TProps + ".AttributePayload.bad key", "attribute name 'bad key'"), (TProps + ".AttributePayload.k", "attribute value 'bad value'"),
                     (TProps + ".AttributePayload.long", "at most 800"), (TProps + ".ThingGroups[1]", "thing group name 'bad/group'")]),
        new("attribute values may be empty and use the wider value alphabet",
            Thing("""{ "ThingName": "a:b_c-1", "AttributePayload": { "k_.,@/:#-": "v=[1]#@/:.,_-", "empty": "" } }"""),
            Plan: ThingPlan("a:b_c-1", attributes: "{k_.,@/:#-=v=[1]#@/:.,_-,empty=}")),
        new("ThingName is required",
            Thing("""{ "ThingTypeName": "T" }"""),
            Errors: [(TName, "ThingName is required")]),
        new("a thing without Properties",
            """{ "Resources": { "thing": { "Type": "AWS::IoT::Thing" } } }""",
            Errors: [(TName, "ThingName is required")]),
        new("BillingGroup, PackageVersions and unknown thing properties",
            Thing("""{ "ThingName": "t", "BillingGroup": "b", "PackageVersions": {}, "Attributes": {} }"""),
            Errors: [(TProps + ".BillingGroup", "billing groups are not supported"), (TProps + ".PackageVersions", "not supported"),
                     (TProps + ".Attributes", "unknown property 'Attributes'")]),
        new("ThingGroups must be a list; AttributePayload an object",
            Thing("""{ "ThingName": "t", "ThingGroups": "g", "AttributePayload": ["a"] }"""),
            Errors: [(TProps + ".ThingGroups", "must be a list"), (TProps + ".AttributePayload", "must be an object")]),
        new("Properties must be an object",
            """{ "Resources": { "thing": { "Type": "AWS::IoT::Thing", "Properties": [] } } }""",
            Errors: [(TProps, "expected a JSON object")]),

        // OverrideSettings.
        new("thing OverrideSettings in the docs' upper-case spelling",
            Thing("""{ "ThingName": "t" }""", thingExtra: """, "OverrideSettings": { "ATTRIBUTE_PAYLOAD": "REPLACE", "THING_TYPE_NAME": "FAIL", "THING_GROUPS": "MERGE" } """),
            Plan: ThingPlan("t", overrides: "Replace/Fail/Merge")),
        new("thing OverrideSettings errors",
            Thing("""{ "ThingName": "t" }""", thingExtra: """, "OverrideSettings": { "ThingTypeName": "MERGE", "ThingGroups": "merge", "AttributePayload": "FAIL", "ATTRIBUTE_PAYLOAD": "FAIL", "Status": "FAIL" } """),
            Errors: [("Resources.thing.OverrideSettings.ThingTypeName", "MERGE is valid only for AttributePayload and ThingGroups"),
                     ("Resources.thing.OverrideSettings.ThingGroups", "'merge' must be DO_NOTHING, REPLACE, FAIL or MERGE"),
                     ("Resources.thing.OverrideSettings.ATTRIBUTE_PAYLOAD", "given twice"),
                     ("Resources.thing.OverrideSettings.Status", "unknown override setting")]),
        new("certificate Status override; policy OverrideSettings refused",
            Resources($$"""
                "certificate": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificateId": "{{CertId}}" }, "OverrideSettings": { "Status": "REPLACE" } },
                "policy": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyName": "P" }, "OverrideSettings": { "PolicyName": "REPLACE" } }
                """),
            Errors: [("Resources.policy.OverrideSettings", "not available for policy resources")]),
        new("certificate Status override accepted, MERGE refused",
            Resources($$"""
                "certificate": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificateId": "{{CertId}}", "Status": "inactive" }, "OverrideSettings": { "Status": "DO_NOTHING" } }
                """),
            Plan: $"certificate certificate id={CertId} pem=- ca=- csr=- status=INACTIVE override=DoNothing"),
        new("certificate Status MERGE refused",
            Resources($$"""
                "certificate": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificateId": "{{CertId}}" }, "OverrideSettings": { "Status": "MERGE" } }
                """),
            Errors: [("Resources.certificate.OverrideSettings.Status", "MERGE is valid only")]),

        // Certificates.
        new("certificate from a CSR, Status in the guide's mixed case",
            Resources("""
                "certificate": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificateSigningRequest": {"Ref": "CSR"}, "Status": "Active" } }
                """, """ "Parameters": { "CSR": { "Type": "String" } } """),
            P("CSR", "-----BEGIN CERTIFICATE REQUEST-----"),
            Plan: "certificate certificate id=- pem=- ca=- csr=-----BEGIN CERTIFICATE REQUEST----- status=ACTIVE override=-"),
        new("certificate from a PEM with its CA",
            Resources("""
                "certificate": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificatePem": "PEM", "CACertificatePem": "CA" } }
                """),
            Plan: "certificate certificate id=- pem=PEM ca=CA csr=- status=ACTIVE override=-"),
        new("certificate sources: none, two, CA without PEM, bad status, bad id",
            Resources("""
                "c1": { "Type": "AWS::IoT::Certificate", "Properties": { "Status": "REVOKED" } },
                "c2": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificateID": "abc", "CertificateSigningRequest": "csr", "CACertificatePem": "CA" } }
                """),
            Errors: [("Resources.c1.Properties.Status", "must be ACTIVE or INACTIVE"), ("Resources.c1.Properties", "none is given"),
                     ("Resources.c2.Properties.CertificateID", "64 hexadecimal"), ("Resources.c2.Properties", "CertificateId and CertificateSigningRequest are given"),
                     ("Resources.c2.Properties.CACertificatePem", "only accompany CertificatePem"), ("Resources.c2", "only one AWS::IoT::Certificate")]),
        new("unknown certificate property",
            Resources($$"""
                "certificate": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificateId": "{{CertId}}", "SetAsActive": true } }
                """),
            Errors: [("Resources.certificate.Properties.SetAsActive", "unknown property")]),

        // Policies.
        new("unnamed policy from the guide's escaped string is kept verbatim and named by its SHA-1",
            Resources($$"""
                "policy": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyDocument": "{{GuidePolicyDocument}}" } }
                """),
            Plan: $"policy policy name={GuidePolicyHash} document={GuidePolicyDocument.Replace("\\\"", "\"", StringComparison.Ordinal)}"),
        new("policy document object with intrinsics inside",
            Resources("""
                "policy": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{ "Effect": "Allow", "Action": ["iot:Connect", {"Fn::If": ["No", "iot:Publish", {"Ref": "AWS::NoValue"}]}], "Resource": {"Fn::Sub": "arn:aws:iot:eu-west-1:1:client/${Serial}"},
                                    "Condition": {"Fn::If": ["No", {"Bool": {"iot:Connection.Thing.IsAttached": true}}, {"Ref": "AWS::NoValue"}]} }] } } }
                """, SerialParam + """, "Conditions": { "No": {"Fn::Equals": ["a", "b"]} } """),
            P("Serial", "s1"),
            Plan: "policy policy name=" + TemplateEngine.PolicyNameForDocument("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect"],"Resource":"arn:aws:iot:eu-west-1:1:client/s1"}]}""") +
                  """ document={"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect"],"Resource":"arn:aws:iot:eu-west-1:1:client/s1"}]}"""),
        new("policy: both, neither, bad name, bad document",
            Resources("""
                "p1": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyName": "P", "PolicyDocument": "{}" } },
                "p2": { "Type": "AWS::IoT::Policy", "Properties": {} },
                "p3": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyName": "bad name" } },
                "p4": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyDocument": "{not json" } },
                "p5": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyDocument": ["a"] } },
                "p6": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyName": "P", "Extra": 1 } }
                """),
            Errors: [("Resources.p1.Properties", "not both"), ("Resources.p2.Properties", "neither is given"),
                     ("Resources.p3.Properties.PolicyName", "must match"), ("Resources.p4.Properties.PolicyDocument", "not valid JSON"),
                     ("Resources.p5.Properties.PolicyDocument", "must be a JSON object"), ("Resources.p6.Properties.Extra", "unknown property")]),

        // DeviceConfiguration.
        new("DeviceConfiguration values must be strings",
            Thing("""{ "ThingName": "t" }""", """ "DeviceConfiguration": { "ok": "v", "n": 5, "nested": { "a": "b" }, "list": ["a"], "gone": {"Ref": "AWS::NoValue"} } """),
            Errors: [("DeviceConfiguration.nested", "flat key-value map"), ("DeviceConfiguration.list", "DeviceConfiguration values must be strings")]),
        new("DeviceConfiguration with literals and a dropped key",
            Thing("""{ "ThingName": "t" }""", """ "DeviceConfiguration": { "ok": "v", "n": 5, "gone": {"Ref": "AWS::NoValue"} } """),
            Plan: ThingPlan("t") + "\nconfig ok=v\nconfig n=5"),

        // Everything at once.
        new("several errors across sections are all reported",
            Resources($$"""
                "thing": { "Type": "AWS::IoT::Thing", "Properties": {
                    "ThingName": {"Ref": "Serial"}, "ThingTypeName": {"Ref": "Nope"}, "ThingGroups": [{"Fn::Select": [5, ["a"]]}], "BillingGroup": "b" } },
                "certificate": { "Type": "AWS::IoT::Certificate", "Properties": {} },
                "policy": { "Type": "AWS::IoT::Widget", "Properties": {} }
                """, SerialParam + """, "DeviceConfiguration": { "x": {"Fn::Join": ["-", "no"]} }, "Extra": 1 """),
            Errors: [("Extra", "unknown template section"),
                     (TName + ".Ref", "parameter Serial has no value"),
                     (TProps + ".ThingTypeName.Ref", "unknown parameter 'Nope'"),
                     (TProps + ".ThingGroups[0].Fn::Select[0]", "out of range"),
                     (TProps + ".BillingGroup", "billing groups are not supported"),
                     ("Resources.certificate.Properties", "none is given"),
                     ("Resources.policy.Type", "unknown resource type"),
                     ("DeviceConfiguration.x.Fn::Join[1]", "expected a list")]),
    ];

    public static TheoryData<string> CaseNames => new(Cases.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Evaluate_TableCase_ProducesExpectedPlanOrErrors(string name)
    {
        var @case = Cases.Single(c => c.Name == name);
        var result = TemplateEngine.Evaluate(@case.Template, @case.Parameters);

        if (@case.Plan is { } expectedPlan)
        {
            Assert.True(result.Succeeded, "unexpected errors: " + string.Join("; ", result.Errors.Select(e => $"{e.Path}: {e.Message}")));
            Assert.Equal(expectedPlan.ReplaceLineEndings("\n"), PlanText.Render(result.Plan!));
            return;
        }

        var expected = @case.Errors ?? throw new InvalidOperationException($"case '{name}' states neither a plan nor errors");
        Assert.False(result.Succeeded);
        Assert.Null(result.Plan);
        var actual = string.Join("\n", result.Errors.Select(e => $"{e.Path}: {e.Message}"));
        Assert.True(expected.Length == result.Errors.Count, $"expected {expected.Length} error(s), got {result.Errors.Count}:\n{actual}");
        var unmatched = result.Errors.ToList();
        foreach (var (path, fragment) in expected)
        {
            var match = unmatched.FirstOrDefault(e => e.Path == path && e.Message.Contains(fragment, StringComparison.Ordinal));
            Assert.True(match is not null, $"no error at '{path}' containing '{fragment}'; got:\n{actual}");
            unmatched.Remove(match);
        }
    }

    [Fact]
    public void Evaluate_CaseNames_AreUnique()
    {
        Assert.Equal(Cases.Length, Cases.Select(c => c.Name).Distinct().Count());
    }

    [Fact]
    public void Evaluate_TemplateOverMaxLength_OneErrorAtRoot()
    {
        var body = Pad("""{ "Resources": {} }""", TemplateEngine.MaxTemplateLength + 1);

        var result = TemplateEngine.Evaluate(body, null);

        var error = Assert.Single(result.Errors);
        Assert.Equal("", error.Path);
        Assert.Contains("10241", error.Message, StringComparison.Ordinal);
        Assert.Contains("10240", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_TemplateAtMaxLength_Succeeds()
    {
        var body = Pad("""{ "Resources": {} }""", TemplateEngine.MaxTemplateLength);

        Assert.True(TemplateEngine.Evaluate(body, null).Succeeded);
    }

    [Fact]
    public void PolicyNameForDocument_IsUppercaseSha1Hex_AndStable()
    {
        Assert.Equal(GuidePolicyHash, TemplateEngine.PolicyNameForDocument(GuidePolicyDocument.Replace("\\\"", "\"", StringComparison.Ordinal)));
        Assert.Equal(CompactFleetPolicyHash, TemplateEngine.PolicyNameForDocument(CompactFleetPolicy));
    }

    [Fact]
    public void Evaluate_SameInlineDocumentTwice_SamePolicyName()
    {
        var parameters = P("SerialNumber", "SN1", "DeviceLocation", "Seattle", "AWS::IoT::Certificate::Id", CertId);
        var first = TemplateEngine.Evaluate(FleetTemplate, parameters).Plan!.Policies.Single();
        var second = TemplateEngine.Evaluate(FleetTemplate, parameters).Plan!.Policies.Single();

        Assert.Equal(CompactFleetPolicyHash, first.PolicyName);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Evaluate_EveryPrefixOfValidTemplates_NeverThrows()
    {
        // Truncation produces every kind of malformed input the parser and evaluator can meet.
        foreach (var template in new[] { SeedTemplate, FleetTemplate })
        {
            for (var length = 0; length <= template.Length; length++)
            {
                var result = TemplateEngine.Evaluate(template[..length], P("ThingName", "t"));
                Assert.True(result.Succeeded || result.Errors.Count > 0);
            }
        }
    }

    [Fact]
    public void Evaluate_DeeplyNestedTemplate_ReportsErrorInsteadOfThrowing()
    {
        var body = """{ "Resources": { "thing": { "Type": "AWS::IoT::Thing", "Properties": { "ThingName": """
            + string.Concat(Enumerable.Repeat("""{"Fn::Join": ["", [""", 200)) + "\"x\"" + string.Concat(Enumerable.Repeat("]]}", 200)) + "} } } }";

        var result = TemplateEngine.Evaluate(body, null);

        var error = Assert.Single(result.Errors);
        Assert.Equal("", error.Path);
    }

    [Fact]
    public void Validate_SeedAndFleetTemplatesWithoutParameters_NoErrors()
    {
        // Evaluating them without parameters fails (ThingName has no value); a stored template has none yet.
        Assert.False(TemplateEngine.Evaluate(SeedTemplate, null).Succeeded);

        Assert.Empty(TemplateEngine.Validate(SeedTemplate));
        Assert.Empty(TemplateEngine.Validate(FleetTemplate));
    }

    [Fact]
    public void Validate_StructuralErrors_ReportsEachWithPath()
    {
        const string body = """
            {
              "Parameters": { "Name": { "Type": "Number" } },
              "Resources": {
                "thing": { "Type": "AWS::IoT::Thing", "Properties": { "ThingName": { "Ref": "Undeclared" }, "Colour": "red" } },
                "policy": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyName": { "Fn::GetAtt": ["a", "b"] } } },
                "extra": { "Type": "AWS::S3::Bucket" }
              }
            }
            """;

        var errors = TemplateEngine.Validate(body);

        Assert.Contains(errors, e => e.Path == "Parameters.Name.Type" && e.Message.Contains("not supported", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == TName + ".Ref" || (e.Path.StartsWith(TName, StringComparison.Ordinal) && e.Message.Contains("Undeclared", StringComparison.Ordinal)));
        Assert.Contains(errors, e => e.Path == TProps + ".Colour");
        Assert.Contains(errors, e => e.Path.StartsWith("Resources.policy.Properties.PolicyName", StringComparison.Ordinal) && e.Message.Contains("Fn::GetAtt", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "Resources.extra.Type");
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("{ not json", "not valid JSON")]
    [InlineData("[]", "JSON object")]
    [InlineData("""{ "Parameters": {} }""", "Resources section is required")]
    public void Validate_NotATemplate_OneError(string body, string fragment)
    {
        var error = Assert.Single(TemplateEngine.Validate(body));
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ValueOnlyKnownAtProvisioning_IsNotChecked()
    {
        // A certificate id from a parameter cannot be checked until the parameter is passed; a literal one can.
        const string fromParameter = """
            { "Parameters": { "Id": { "Type": "String" } },
              "Resources": { "certificate": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificateId": { "Ref": "Id" } } } } }
            """;
        const string literal = """
            { "Resources": { "certificate": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificateId": "not-hex" } } } }
            """;

        Assert.Empty(TemplateEngine.Validate(fromParameter));
        var error = Assert.Single(TemplateEngine.Validate(literal));
        Assert.Equal("Resources.certificate.Properties.CertificateId", error.Path);
    }

    private static string Pad(string json, int length) => json[..^1] + new string(' ', length - json.Length) + "}";

    private static string ReadSeedTemplate()
    {
        using var stream = typeof(TemplateEngineTests).Assembly.GetManifestResourceStream("register-thing-template-body.json")
            ?? throw new InvalidOperationException("The embedded seed template is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

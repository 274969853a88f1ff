using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fleetkey.Api.Contracts;

/// <summary>
/// The control plane's JSON: source-generated, nulls omitted (rest-json leaves out absent
/// members), instants as epoch seconds with a fraction, as the AWS SDKs parse timestamps.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(EpochSecondsConverter), typeof(NullableEpochSecondsConverter)])]
[JsonSerializable(typeof(CreateThingRequest))]
[JsonSerializable(typeof(CreateThingResponse))]
[JsonSerializable(typeof(ThingNameRequest))]
[JsonSerializable(typeof(DescribeThingResponse))]
[JsonSerializable(typeof(UpdateThingRequest))]
[JsonSerializable(typeof(DeleteThingRequest))]
[JsonSerializable(typeof(ListThingsRequest))]
[JsonSerializable(typeof(ListThingsResponse))]
[JsonSerializable(typeof(CreateThingTypeRequest))]
[JsonSerializable(typeof(CreateThingTypeResponse))]
[JsonSerializable(typeof(ThingTypeNameRequest))]
[JsonSerializable(typeof(DescribeThingTypeResponse))]
[JsonSerializable(typeof(UpdateThingTypeRequest))]
[JsonSerializable(typeof(DeprecateThingTypeRequest))]
[JsonSerializable(typeof(ListThingTypesRequest))]
[JsonSerializable(typeof(ListThingTypesResponse))]
[JsonSerializable(typeof(Mqtt5Configuration))]
[JsonSerializable(typeof(CreateThingGroupRequest))]
[JsonSerializable(typeof(CreateThingGroupResponse))]
[JsonSerializable(typeof(ThingGroupNameRequest))]
[JsonSerializable(typeof(DescribeThingGroupResponse))]
[JsonSerializable(typeof(UpdateThingGroupRequest))]
[JsonSerializable(typeof(UpdateThingGroupResponse))]
[JsonSerializable(typeof(DeleteThingGroupRequest))]
[JsonSerializable(typeof(ListThingGroupsRequest))]
[JsonSerializable(typeof(ListThingGroupsResponse))]
[JsonSerializable(typeof(ThingGroupMembershipRequest))]
[JsonSerializable(typeof(UpdateThingGroupsForThingRequest))]
[JsonSerializable(typeof(ListThingsInThingGroupRequest))]
[JsonSerializable(typeof(ListThingsInThingGroupResponse))]
[JsonSerializable(typeof(ListThingGroupsForThingRequest))]
[JsonSerializable(typeof(ListThingGroupsForThingResponse))]
[JsonSerializable(typeof(TagResourceRequest))]
[JsonSerializable(typeof(UntagResourceRequest))]
[JsonSerializable(typeof(ListTagsForResourceRequest))]
[JsonSerializable(typeof(ListTagsForResourceResponse))]
[JsonSerializable(typeof(DescribeEndpointRequest))]
[JsonSerializable(typeof(DescribeEndpointResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(DeviceRegisterResponse))]
[JsonSerializable(typeof(SetAsActiveRequest))]
[JsonSerializable(typeof(CreateKeysAndCertificateResponse))]
[JsonSerializable(typeof(CreateCertificateFromCsrRequest))]
[JsonSerializable(typeof(CreateCertificateFromCsrResponse))]
[JsonSerializable(typeof(RegisterCertificateRequest))]
[JsonSerializable(typeof(RegisterCertificateResponse))]
[JsonSerializable(typeof(GetRegistrationCodeResponse))]
[JsonSerializable(typeof(RegisterCaCertificateRequest))]
[JsonSerializable(typeof(CaCertificateIdRequest))]
[JsonSerializable(typeof(DescribeCaCertificateResponse))]
[JsonSerializable(typeof(UpdateCaCertificateRequest))]
[JsonSerializable(typeof(ListCaCertificatesRequest))]
[JsonSerializable(typeof(ListCaCertificatesResponse))]
[JsonSerializable(typeof(CertificateIdRequest))]
[JsonSerializable(typeof(DescribeCertificateResponse))]
[JsonSerializable(typeof(ListCertificatesRequest))]
[JsonSerializable(typeof(ListCertificatesResponse))]
[JsonSerializable(typeof(UpdateCertificateRequest))]
[JsonSerializable(typeof(DeleteCertificateRequest))]
[JsonSerializable(typeof(ThingPrincipalRequest))]
[JsonSerializable(typeof(ListThingPrincipalsRequest))]
[JsonSerializable(typeof(ListThingPrincipalsResponse))]
[JsonSerializable(typeof(ListThingPrincipalsV2Response))]
[JsonSerializable(typeof(ListPrincipalThingsRequest))]
[JsonSerializable(typeof(ListPrincipalThingsResponse))]
[JsonSerializable(typeof(ListPrincipalThingsV2Response))]
[JsonSerializable(typeof(CreatePolicyRequest))]
[JsonSerializable(typeof(CreatePolicyResponse))]
[JsonSerializable(typeof(PolicyNameRequest))]
[JsonSerializable(typeof(GetPolicyResponse))]
[JsonSerializable(typeof(ListPoliciesRequest))]
[JsonSerializable(typeof(ListPoliciesResponse))]
[JsonSerializable(typeof(CreatePolicyVersionRequest))]
[JsonSerializable(typeof(CreatePolicyVersionResponse))]
[JsonSerializable(typeof(PolicyVersionRequest))]
[JsonSerializable(typeof(GetPolicyVersionResponse))]
[JsonSerializable(typeof(ListPolicyVersionsResponse))]
[JsonSerializable(typeof(PolicyTargetRequest))]
[JsonSerializable(typeof(ListAttachedPoliciesRequest))]
[JsonSerializable(typeof(ListAttachedPoliciesResponse))]
[JsonSerializable(typeof(ListTargetsForPolicyRequest))]
[JsonSerializable(typeof(ListTargetsForPolicyResponse))]
[JsonSerializable(typeof(GetEffectivePoliciesRequest))]
[JsonSerializable(typeof(GetEffectivePoliciesResponse))]
[JsonSerializable(typeof(TestAuthorizationRequest))]
[JsonSerializable(typeof(TestAuthorizationResponse))]
[JsonSerializable(typeof(RegisterThingRequest))]
[JsonSerializable(typeof(RegisterThingResponse))]
[JsonSerializable(typeof(CreateProvisioningClaimResponse))]
[JsonSerializable(typeof(CreateProvisioningTemplateRequest))]
[JsonSerializable(typeof(CreateProvisioningTemplateResponse))]
[JsonSerializable(typeof(ProvisioningTemplateNameRequest))]
[JsonSerializable(typeof(DescribeProvisioningTemplateResponse))]
[JsonSerializable(typeof(UpdateProvisioningTemplateRequest))]
[JsonSerializable(typeof(ListProvisioningTemplatesRequest))]
[JsonSerializable(typeof(ListProvisioningTemplatesResponse))]
[JsonSerializable(typeof(CreateProvisioningTemplateVersionRequest))]
[JsonSerializable(typeof(CreateProvisioningTemplateVersionResponse))]
[JsonSerializable(typeof(ProvisioningTemplateVersionRequest))]
[JsonSerializable(typeof(DescribeProvisioningTemplateVersionResponse))]
[JsonSerializable(typeof(ListProvisioningTemplateVersionsRequest))]
[JsonSerializable(typeof(ListProvisioningTemplateVersionsResponse))]
[JsonSerializable(typeof(CreateEnrollmentGroupResponse))]
[JsonSerializable(typeof(EnrollmentGroupDescription))]
[JsonSerializable(typeof(ListEnrollmentGroupsResponse))]
[JsonSerializable(typeof(CreateEnrollmentResponse))]
[JsonSerializable(typeof(EnrollmentDescription))]
[JsonSerializable(typeof(ListEnrollmentsResponse))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>rest-json timestamps: seconds since the epoch as a JSON number, milliseconds as the fraction.</summary>
internal sealed class EpochSecondsConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Number
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(reader.GetDouble() * 1000))
            : DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.ToUnixTimeMilliseconds() / 1000m);
}

internal sealed class NullableEpochSecondsConverter : JsonConverter<DateTimeOffset?>
{
    private static readonly EpochSecondsConverter Inner = new();

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? null : Inner.Read(ref reader, typeof(DateTimeOffset), options);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            Inner.Write(writer, value.Value, options);
        }
    }
}

using System.Text.Json.Serialization;

namespace Fleetkey.Api.Contracts;

// The wire shapes of Fleetkey's enrollment routes (an extension: not in the AWS IoT model), in the
// model's style: camelCase members, timestamps as epoch seconds, absent members left out.

internal sealed record CreateEnrollmentGroupResponse(
    [property: JsonPropertyName("enrollmentGroupName")] string EnrollmentGroupName,
    [property: JsonPropertyName("enrollmentGroupArn")] string EnrollmentGroupArn,
    [property: JsonPropertyName("groupKey")] string GroupKey);

internal sealed record EnrollmentGroupDescription(
    [property: JsonPropertyName("enrollmentGroupName")] string EnrollmentGroupName,
    [property: JsonPropertyName("enrollmentGroupArn")] string EnrollmentGroupArn,
    [property: JsonPropertyName("templateName")] string TemplateName,
    [property: JsonPropertyName("serialNumberPattern")] string? SerialNumberPattern,
    [property: JsonPropertyName("allowReprovisioning")] bool AllowReprovisioning,
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("parameters")] IReadOnlyDictionary<string, string> Parameters,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate,
    [property: JsonPropertyName("lastModifiedDate")] DateTimeOffset LastModifiedDate);

internal sealed record ListEnrollmentGroupsResponse(
    [property: JsonPropertyName("enrollmentGroups")] IReadOnlyList<EnrollmentGroupDescription> EnrollmentGroups,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record CreateEnrollmentResponse(
    [property: JsonPropertyName("serialNumber")] string SerialNumber,
    [property: JsonPropertyName("enrollmentArn")] string EnrollmentArn,
    [property: JsonPropertyName("deviceSecret")] string DeviceSecret);

internal sealed record EnrollmentDescription(
    [property: JsonPropertyName("serialNumber")] string SerialNumber,
    [property: JsonPropertyName("enrollmentArn")] string EnrollmentArn,
    [property: JsonPropertyName("templateName")] string TemplateName,
    [property: JsonPropertyName("allowReprovisioning")] bool AllowReprovisioning,
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("parameters")] IReadOnlyDictionary<string, string> Parameters,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate,
    [property: JsonPropertyName("lastModifiedDate")] DateTimeOffset LastModifiedDate);

internal sealed record ListEnrollmentsResponse(
    [property: JsonPropertyName("enrollments")] IReadOnlyList<EnrollmentDescription> Enrollments,
    [property: JsonPropertyName("nextToken")] string? NextToken);

using System.Text.Json.Serialization;

namespace Fleetkey.Api.Contracts;

// The wire shapes of the AWS IoT registry operations, named as the service model names them.

internal sealed record AttributePayload(
    [property: JsonPropertyName("attributes")] Dictionary<string, string>? Attributes,
    [property: JsonPropertyName("merge")] bool? Merge);

internal sealed record CreateThingRequest(
    [property: JsonPropertyName("thingName")] string ThingName,
    [property: JsonPropertyName("thingTypeName")] string? ThingTypeName,
    [property: JsonPropertyName("attributePayload")] AttributePayload? AttributePayload,
    [property: JsonPropertyName("billingGroupName")] string? BillingGroupName);

internal sealed record CreateThingResponse(
    [property: JsonPropertyName("thingName")] string ThingName,
    [property: JsonPropertyName("thingArn")] string ThingArn,
    [property: JsonPropertyName("thingId")] string ThingId);

internal sealed record ThingNameRequest(
    [property: JsonPropertyName("thingName")] string ThingName);

internal sealed record DescribeThingResponse(
    [property: JsonPropertyName("defaultClientId")] string DefaultClientId,
    [property: JsonPropertyName("thingName")] string ThingName,
    [property: JsonPropertyName("thingId")] string ThingId,
    [property: JsonPropertyName("thingArn")] string ThingArn,
    [property: JsonPropertyName("thingTypeName")] string? ThingTypeName,
    [property: JsonPropertyName("attributes")] IReadOnlyDictionary<string, string> Attributes,
    [property: JsonPropertyName("version")] long Version);

internal sealed record UpdateThingRequest(
    [property: JsonPropertyName("thingName")] string ThingName,
    [property: JsonPropertyName("thingTypeName")] string? ThingTypeName,
    [property: JsonPropertyName("attributePayload")] AttributePayload? AttributePayload,
    [property: JsonPropertyName("expectedVersion")] long? ExpectedVersion,
    [property: JsonPropertyName("removeThingType")] bool? RemoveThingType);

internal sealed record DeleteThingRequest(
    [property: JsonPropertyName("thingName")] string ThingName,
    [property: JsonPropertyName("expectedVersion")] long? ExpectedVersion);

internal sealed record ListThingsRequest(
    [property: JsonPropertyName("nextToken")] string? NextToken,
    [property: JsonPropertyName("maxResults")] int? MaxResults,
    [property: JsonPropertyName("attributeName")] string? AttributeName,
    [property: JsonPropertyName("attributeValue")] string? AttributeValue,
    [property: JsonPropertyName("thingTypeName")] string? ThingTypeName,
    [property: JsonPropertyName("usePrefixAttributeValue")] bool? UsePrefixAttributeValue);

internal sealed record ThingAttribute(
    [property: JsonPropertyName("thingName")] string ThingName,
    [property: JsonPropertyName("thingTypeName")] string? ThingTypeName,
    [property: JsonPropertyName("thingArn")] string ThingArn,
    [property: JsonPropertyName("attributes")] IReadOnlyDictionary<string, string> Attributes,
    [property: JsonPropertyName("version")] long Version);

internal sealed record ListThingsResponse(
    [property: JsonPropertyName("things")] IReadOnlyList<ThingAttribute> Things,
    [property: JsonPropertyName("nextToken")] string? NextToken);

// Thing types

internal sealed record PropagatingAttribute(
    [property: JsonPropertyName("userPropertyKey")] string? UserPropertyKey,
    [property: JsonPropertyName("thingAttribute")] string? ThingAttribute,
    [property: JsonPropertyName("connectionAttribute")] string? ConnectionAttribute);

internal sealed record Mqtt5Configuration(
    [property: JsonPropertyName("propagatingAttributes")] List<PropagatingAttribute>? PropagatingAttributes);

internal sealed record ThingTypeProperties(
    [property: JsonPropertyName("thingTypeDescription")] string? ThingTypeDescription,
    [property: JsonPropertyName("searchableAttributes")] IReadOnlyList<string>? SearchableAttributes,
    [property: JsonPropertyName("mqtt5Configuration")] Mqtt5Configuration? Mqtt5Configuration);

internal sealed record ThingTypeMetadata(
    [property: JsonPropertyName("deprecated")] bool Deprecated,
    [property: JsonPropertyName("deprecationDate")] DateTimeOffset? DeprecationDate,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate);

internal sealed record TagDto(
    [property: JsonPropertyName("Key")] string Key,
    [property: JsonPropertyName("Value")] string? Value);

internal sealed record CreateThingTypeRequest(
    [property: JsonPropertyName("thingTypeName")] string ThingTypeName,
    [property: JsonPropertyName("thingTypeProperties")] ThingTypeProperties? ThingTypeProperties,
    [property: JsonPropertyName("tags")] List<TagDto>? Tags);

internal sealed record CreateThingTypeResponse(
    [property: JsonPropertyName("thingTypeName")] string ThingTypeName,
    [property: JsonPropertyName("thingTypeArn")] string ThingTypeArn,
    [property: JsonPropertyName("thingTypeId")] string ThingTypeId);

internal sealed record ThingTypeNameRequest(
    [property: JsonPropertyName("thingTypeName")] string ThingTypeName);

internal sealed record DescribeThingTypeResponse(
    [property: JsonPropertyName("thingTypeName")] string ThingTypeName,
    [property: JsonPropertyName("thingTypeId")] string ThingTypeId,
    [property: JsonPropertyName("thingTypeArn")] string ThingTypeArn,
    [property: JsonPropertyName("thingTypeProperties")] ThingTypeProperties ThingTypeProperties,
    [property: JsonPropertyName("thingTypeMetadata")] ThingTypeMetadata ThingTypeMetadata);

internal sealed record UpdateThingTypeRequest(
    [property: JsonPropertyName("thingTypeName")] string ThingTypeName,
    [property: JsonPropertyName("thingTypeProperties")] ThingTypeProperties? ThingTypeProperties);

internal sealed record DeprecateThingTypeRequest(
    [property: JsonPropertyName("thingTypeName")] string ThingTypeName,
    [property: JsonPropertyName("undoDeprecate")] bool? UndoDeprecate);

internal sealed record ListThingTypesRequest(
    [property: JsonPropertyName("nextToken")] string? NextToken,
    [property: JsonPropertyName("maxResults")] int? MaxResults,
    [property: JsonPropertyName("thingTypeName")] string? ThingTypeName);

internal sealed record ThingTypeDefinition(
    [property: JsonPropertyName("thingTypeName")] string ThingTypeName,
    [property: JsonPropertyName("thingTypeArn")] string ThingTypeArn,
    [property: JsonPropertyName("thingTypeProperties")] ThingTypeProperties ThingTypeProperties,
    [property: JsonPropertyName("thingTypeMetadata")] ThingTypeMetadata ThingTypeMetadata);

internal sealed record ListThingTypesResponse(
    [property: JsonPropertyName("thingTypes")] IReadOnlyList<ThingTypeDefinition> ThingTypes,
    [property: JsonPropertyName("nextToken")] string? NextToken);

// Thing groups

internal sealed record ThingGroupProperties(
    [property: JsonPropertyName("thingGroupDescription")] string? ThingGroupDescription,
    [property: JsonPropertyName("attributePayload")] AttributePayload? AttributePayload);

internal sealed record GroupNameAndArn(
    [property: JsonPropertyName("groupName")] string GroupName,
    [property: JsonPropertyName("groupArn")] string GroupArn);

internal sealed record ThingGroupMetadata(
    [property: JsonPropertyName("parentGroupName")] string? ParentGroupName,
    [property: JsonPropertyName("rootToParentThingGroups")] IReadOnlyList<GroupNameAndArn>? RootToParentThingGroups,
    [property: JsonPropertyName("creationDate")] DateTimeOffset CreationDate);

internal sealed record CreateThingGroupRequest(
    [property: JsonPropertyName("thingGroupName")] string ThingGroupName,
    [property: JsonPropertyName("parentGroupName")] string? ParentGroupName,
    [property: JsonPropertyName("thingGroupProperties")] ThingGroupProperties? ThingGroupProperties,
    [property: JsonPropertyName("tags")] List<TagDto>? Tags);

internal sealed record CreateThingGroupResponse(
    [property: JsonPropertyName("thingGroupName")] string ThingGroupName,
    [property: JsonPropertyName("thingGroupArn")] string ThingGroupArn,
    [property: JsonPropertyName("thingGroupId")] string ThingGroupId);

internal sealed record ThingGroupNameRequest(
    [property: JsonPropertyName("thingGroupName")] string ThingGroupName);

internal sealed record DescribeThingGroupResponse(
    [property: JsonPropertyName("thingGroupName")] string ThingGroupName,
    [property: JsonPropertyName("thingGroupId")] string ThingGroupId,
    [property: JsonPropertyName("thingGroupArn")] string ThingGroupArn,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("thingGroupProperties")] ThingGroupProperties ThingGroupProperties,
    [property: JsonPropertyName("thingGroupMetadata")] ThingGroupMetadata ThingGroupMetadata);

internal sealed record UpdateThingGroupRequest(
    [property: JsonPropertyName("thingGroupName")] string ThingGroupName,
    [property: JsonPropertyName("thingGroupProperties")] ThingGroupProperties ThingGroupProperties,
    [property: JsonPropertyName("expectedVersion")] long? ExpectedVersion);

internal sealed record UpdateThingGroupResponse(
    [property: JsonPropertyName("version")] long Version);

internal sealed record DeleteThingGroupRequest(
    [property: JsonPropertyName("thingGroupName")] string ThingGroupName,
    [property: JsonPropertyName("expectedVersion")] long? ExpectedVersion);

internal sealed record ListThingGroupsRequest(
    [property: JsonPropertyName("nextToken")] string? NextToken,
    [property: JsonPropertyName("maxResults")] int? MaxResults,
    [property: JsonPropertyName("parentGroup")] string? ParentGroup,
    [property: JsonPropertyName("namePrefixFilter")] string? NamePrefixFilter,
    [property: JsonPropertyName("recursive")] bool? Recursive);

internal sealed record ListThingGroupsResponse(
    [property: JsonPropertyName("thingGroups")] IReadOnlyList<GroupNameAndArn> ThingGroups,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record ThingGroupMembershipRequest(
    [property: JsonPropertyName("thingGroupName")] string? ThingGroupName,
    [property: JsonPropertyName("thingGroupArn")] string? ThingGroupArn,
    [property: JsonPropertyName("thingName")] string? ThingName,
    [property: JsonPropertyName("thingArn")] string? ThingArn,
    [property: JsonPropertyName("overrideDynamicGroups")] bool? OverrideDynamicGroups);

internal sealed record UpdateThingGroupsForThingRequest(
    [property: JsonPropertyName("thingName")] string? ThingName,
    [property: JsonPropertyName("thingGroupsToAdd")] List<string>? ThingGroupsToAdd,
    [property: JsonPropertyName("thingGroupsToRemove")] List<string>? ThingGroupsToRemove,
    [property: JsonPropertyName("overrideDynamicGroups")] bool? OverrideDynamicGroups);

internal sealed record ListThingsInThingGroupRequest(
    [property: JsonPropertyName("thingGroupName")] string ThingGroupName,
    [property: JsonPropertyName("recursive")] bool? Recursive,
    [property: JsonPropertyName("nextToken")] string? NextToken,
    [property: JsonPropertyName("maxResults")] int? MaxResults);

internal sealed record ListThingsInThingGroupResponse(
    [property: JsonPropertyName("things")] IReadOnlyList<string> Things,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record ListThingGroupsForThingRequest(
    [property: JsonPropertyName("thingName")] string ThingName,
    [property: JsonPropertyName("nextToken")] string? NextToken,
    [property: JsonPropertyName("maxResults")] int? MaxResults);

internal sealed record ListThingGroupsForThingResponse(
    [property: JsonPropertyName("thingGroups")] IReadOnlyList<GroupNameAndArn> ThingGroups,
    [property: JsonPropertyName("nextToken")] string? NextToken);

// Tags and endpoint

internal sealed record TagResourceRequest(
    [property: JsonPropertyName("resourceArn")] string ResourceArn,
    [property: JsonPropertyName("tags")] List<TagDto> Tags);

internal sealed record UntagResourceRequest(
    [property: JsonPropertyName("resourceArn")] string ResourceArn,
    [property: JsonPropertyName("tagKeys")] List<string> TagKeys);

internal sealed record ListTagsForResourceRequest(
    [property: JsonPropertyName("resourceArn")] string ResourceArn,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record ListTagsForResourceResponse(
    [property: JsonPropertyName("tags")] IReadOnlyList<TagDto> Tags,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record DescribeEndpointRequest(
    [property: JsonPropertyName("endpointType")] string? EndpointType);

internal sealed record DescribeEndpointResponse(
    [property: JsonPropertyName("endpointAddress")] string EndpointAddress);

internal sealed record HealthResponse(
    [property: JsonPropertyName("status")] string Status);

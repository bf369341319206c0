// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title IProductDirectory
/// @notice The lookup directory of products: who answers for a GTIN, and where.
interface IProductDirectory {
    /// @notice Public master data of a product.
    struct ProductInfo {
        string name;
        string strength;
        string dosageForm;
        string ndc;
        string gatewayUrl;
    }

    struct Product {
        address owner;
        ProductInfo info;
    }

    event ProductRegistered(bytes32 indexed gtinHash, string gtin14, address indexed owner);

    error ProductDirectoryInvalidGtin(string gtin14);
    error ProductDirectoryNotPrefixOwner(string gtin14, address caller, address owner);
    error ProductDirectoryMissingName(string gtin14);
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {IProductDirectory} from "./interfaces/IProductDirectory.sol";
import {LedgerIds} from "./libraries/LedgerIds.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ProductDirectory
/// @notice Public master data of each product (GTIN) and the gateway that answers for it,
/// written only by the member that owns the GTIN's GS1 company prefix.
contract ProductDirectory is IProductDirectory, ERC2771Context {
    IConsortium private immutable _consortium;
    mapping(bytes32 gtinHash => Product) private _products;
    string[] private _gtins;

    constructor(address trustedForwarder, IConsortium consortium_) ERC2771Context(trustedForwarder) {
        _consortium = consortium_;
    }

    /// @notice Registers or updates product `gtin14` with its public master data.
    /// @dev Requirements:
    /// - the caller is an active, licensed manufacturer or repackager;
    /// - `gtin14` is 14 digits with a valid check digit, and the caller owns its company prefix;
    /// - the name is not empty.
    function registerProduct(string calldata gtin14, ProductInfo calldata info) external {
        address caller = _msgSender();
        _consortium.requireMember(caller, Roles.PRODUCERS);
        if (!LedgerIds.isValidGs1Key(bytes(gtin14), 14)) revert ProductDirectoryInvalidGtin(gtin14);
        address owner = _consortium.prefixOwner(gtin14);
        if (owner != caller) revert ProductDirectoryNotPrefixOwner(gtin14, caller, owner);
        if (bytes(info.name).length == 0) revert ProductDirectoryMissingName(gtin14);
        bytes32 key = keccak256(bytes(gtin14));
        Product storage p = _products[key];
        if (p.owner == address(0)) _gtins.push(gtin14);
        p.owner = caller;
        p.info = info;
        emit ProductRegistered(key, gtin14, caller);
    }

    /// @notice Returns product `gtin14` (owner address(0) when unknown).
    function product(string calldata gtin14) external view returns (Product memory) {
        return _products[keccak256(bytes(gtin14))];
    }

    /// @notice Returns how many products are registered.
    function productCount() external view returns (uint256) {
        return _gtins.length;
    }

    /// @notice Returns the GTIN registered at position `index`.
    function gtinAt(uint256 index) external view returns (string memory) {
        return _gtins[index];
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title NaivePackToken
/// @notice The gas benchmark's baseline, not part of RxLedger: one ERC-721 token per pack,
/// minted by the manufacturer, transferred pack by pack at every hop, burned at dispense.
contract NaivePackToken is ERC721 {
    constructor() ERC721("NaivePack", "NPK") {}

    /// @notice Mints the token of one pack to the caller.
    function mint(uint256 id) external {
        _mint(msg.sender, id);
    }

    /// @notice Burns the token of one pack the caller holds (dispense).
    function burn(uint256 id) external {
        if (ownerOf(id) != msg.sender) revert ERC721IncorrectOwner(msg.sender, id, ownerOf(id));
        _burn(id);
    }

    /// @notice Mints one token per pack id to the caller.
    function mintBatch(uint256[] calldata ids) external {
        for (uint256 i; i < ids.length; ++i) {
            _mint(msg.sender, ids[i]);
        }
    }

    /// @notice Transfers each pack from the caller to `to`.
    function transferBatch(address to, uint256[] calldata ids) external {
        for (uint256 i; i < ids.length; ++i) {
            transferFrom(msg.sender, to, ids[i]);
        }
    }

    /// @notice Burns each pack the caller holds (dispense).
    function burnBatch(uint256[] calldata ids) external {
        for (uint256 i; i < ids.length; ++i) {
            if (ownerOf(ids[i]) != msg.sender) revert ERC721IncorrectOwner(msg.sender, ids[i], ownerOf(ids[i]));
            _burn(ids[i]);
        }
    }
}
